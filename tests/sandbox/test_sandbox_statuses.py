"""Status webhooks after a send: order, reading, the 24-hour window, unreachable numbers."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.sandbox.harness import CUSTOMER, CUSTOMER_WA_ID, Env, sandbox_env


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with sandbox_env() as running:
        yield running


async def _open_window(env: Env) -> None:
    env.sandbox.say(CUSTOMER, "Hallo")
    await env.sandbox.idle()


async def _send(env: Env, text: str = "Guten Tag", **extra: Any) -> str:
    response = await env.send_text(text, **extra)
    assert response.status_code == 200, response.text
    wamid: str = response.json()["messages"][0]["id"]
    await env.sandbox.idle()
    return wamid


def _statuses(env: Env, wamid: str) -> list[dict[str, Any]]:
    return [s for s in env.receiver.statuses if s["id"] == wamid]


async def test_sent_delivered_read_in_separate_signed_posts(env: Env) -> None:
    await _open_window(env)
    wamid = await _send(env, biz_opaque_callback_data="job-7")
    statuses = _statuses(env, wamid)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    status_posts = [r for r in env.receiver.received if "statuses" in r.value]
    assert len(status_posts) == 3
    assert all(r.signature_ok() for r in status_posts)
    sent, delivered, read = statuses
    for entry in statuses:
        assert entry["recipient_id"] == CUSTOMER_WA_ID
        assert entry["timestamp"].isdigit()
        assert entry["biz_opaque_callback_data"] == "job-7"
    assert sent["conversation"]["origin"] == {"type": "service"}
    assert sent["conversation"]["expiration_timestamp"].isdigit()
    assert "expiration_timestamp" not in delivered["conversation"]
    assert sent["conversation"]["id"] == delivered["conversation"]["id"]
    assert sent["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_customer_service",
    }
    assert "conversation" not in read and "pricing" not in read


async def test_inbox_shows_the_timeline(env: Env) -> None:
    await _open_window(env)
    reply_to = env.receiver.messages[0]["id"]
    wamid = await _send(env, "Antwort", context={"message_id": reply_to})
    (message,) = env.sandbox.inbox(CUSTOMER)["messages"]
    assert message["id"] == wamid
    assert message["type"] == "text"
    assert message["text"] == "Antwort"
    assert message["context"] == {"message_id": reply_to}
    assert message["status"] == "read"
    assert [s["status"] for s in message["statuses"]] == ["sent", "delivered", "read"]
    assert message["errors"] == []


async def test_read_waits_for_the_customer_when_auto_read_is_off(env: Env) -> None:
    env.sandbox.configure(auto_read=False)
    await _open_window(env)
    wamid = await _send(env)
    assert [s["status"] for s in _statuses(env, wamid)] == ["sent", "delivered"]
    assert env.sandbox.read(CUSTOMER) == [wamid]
    await env.sandbox.idle()
    assert [s["status"] for s in _statuses(env, wamid)] == ["sent", "delivered", "read"]
    assert env.sandbox.read(CUSTOMER) == []  # nothing left to read


async def test_read_requested_while_pipeline_runs(env: Env) -> None:
    env.sandbox.configure(auto_read=False, status_delay_seconds=0.05)
    await _open_window(env)
    response = await env.send_text("x")
    wamid = response.json()["messages"][0]["id"]
    assert env.sandbox.read(CUSTOMER) == [wamid]
    await env.sandbox.idle()
    assert [s["status"] for s in _statuses(env, wamid)] == ["sent", "delivered", "read"]


async def test_delivered_can_be_skipped(env: Env) -> None:
    env.sandbox.configure(skip_delivered_probability=1.0)
    await _open_window(env)
    wamid = await _send(env)
    assert [s["status"] for s in _statuses(env, wamid)] == ["sent", "read"]


async def test_reordered_statuses_are_a_permutation() -> None:
    async with sandbox_env(reorder_deliveries=True, rng=random.Random(3)) as env:
        await _open_window(env)
        orders = set()
        for i in range(8):
            wamid = await _send(env, str(i))
            statuses = [s["status"] for s in _statuses(env, wamid)]
            assert sorted(statuses) == ["delivered", "read", "sent"]
            orders.add(tuple(statuses))
        assert len(orders) > 1


async def test_never_wrote_means_failed_131047(env: Env) -> None:
    wamid = await _send(env)
    (failed,) = _statuses(env, wamid)
    assert failed["status"] == "failed"
    assert failed["recipient_id"] == CUSTOMER_WA_ID
    assert failed["errors"] == [
        {
            "code": 131047,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {
                "details": "Message failed to send because more than 24 hours have passed "
                "since the customer last replied to this number."
            },
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
        }
    ]
    assert "conversation" not in failed and "pricing" not in failed


async def test_window_closes_after_24_hours(env: Env) -> None:
    await _open_window(env)
    env.sandbox.advance_clock(24 * 3600 - 5)
    inside = await _send(env, "still fine")
    assert _statuses(env, inside)[0]["status"] == "sent"
    env.sandbox.advance_clock(10)
    assert env.sandbox.inbox(CUSTOMER)["window_open"] is False
    outside = await _send(env, "too late")
    assert [(s["status"], s["errors"][0]["code"]) for s in _statuses(env, outside)] == [
        ("failed", 131047)
    ]
    (late,) = [m for m in env.sandbox.inbox(CUSTOMER)["messages"] if m["id"] == outside]
    assert late["status"] == "failed"
    assert late["errors"][0]["code"] == 131047


async def test_window_hours_is_configurable(env: Env) -> None:
    env.sandbox.configure(window_hours=1)
    await _open_window(env)
    env.sandbox.advance_clock(3601)
    wamid = await _send(env)
    assert _statuses(env, wamid)[0]["errors"][0]["code"] == 131047


async def test_new_customer_message_reopens_the_window(env: Env) -> None:
    await _open_window(env)
    env.sandbox.advance_clock(48 * 3600)
    await _open_window(env)
    wamid = await _send(env)
    assert _statuses(env, wamid)[0]["status"] == "sent"


async def test_template_outside_window_is_delivered_and_billable(env: Env) -> None:
    body = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER_WA_ID,
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en_US"}},
    }
    response = await env.send(body)
    wamid = response.json()["messages"][0]["id"]
    await env.sandbox.idle()
    statuses = _statuses(env, wamid)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert statuses[0]["pricing"]["billable"] is True
    assert statuses[0]["pricing"]["type"] == "regular"
    assert statuses[0]["conversation"]["origin"]["type"] == "utility"


async def test_unreachable_number_fails_131026(env: Env) -> None:
    await _open_window(env)
    env.sandbox.set_unreachable(CUSTOMER)
    wamid = await _send(env)
    (failed,) = _statuses(env, wamid)
    assert failed["status"] == "failed"
    assert failed["errors"][0]["code"] == 131026
    assert failed["errors"][0]["title"] == "Message undeliverable"
    env.sandbox.set_unreachable(CUSTOMER, False)
    assert _statuses(env, await _send(env))[0]["status"] == "sent"
