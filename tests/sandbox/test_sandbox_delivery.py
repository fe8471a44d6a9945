"""Webhook delivery to the bot: signature, redelivery, duplicates, order, handshake, logs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from bot.sandbox import SandboxServer
from tests.sandbox.harness import (
    APP_SECRET,
    CUSTOMER,
    CUSTOMER_WA_ID,
    PHONE_NUMBER_ID,
    Env,
    make_settings,
    sandbox_env,
)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with sandbox_env() as running:
        yield running


async def test_inbound_text_webhook_is_documented_envelope_and_signed(env: Env) -> None:
    wamid = env.sandbox.say(CUSTOMER, "Grüße 😮", name="Erika")
    await env.sandbox.idle()
    (received,) = env.receiver.received
    assert received.signature_ok(APP_SECRET)
    assert not received.signature_ok("another secret")
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"] == "facebookexternalua"
    assert received.body.isascii() and b": " not in received.body
    body = received.json
    assert body["object"] == "whatsapp_business_account"
    assert body["entry"][0]["id"] == env.sandbox.business.waba_id
    assert body["entry"][0]["changes"][0]["field"] == "messages"
    value = received.value
    assert value["metadata"] == {
        "display_phone_number": env.sandbox.business.display_phone_number,
        "phone_number_id": PHONE_NUMBER_ID,
    }
    assert value["contacts"] == [{"profile": {"name": "Erika"}, "wa_id": CUSTOMER_WA_ID}]
    (message,) = value["messages"]
    assert message == {
        "from": CUSTOMER_WA_ID,
        "id": wamid,
        "timestamp": message["timestamp"],
        "type": "text",
        "text": {"body": "Grüße 😮"},
    }
    assert message["timestamp"].isdigit()


async def test_profile_name_is_remembered(env: Env) -> None:
    env.sandbox.say(CUSTOMER, "1", name="Erika")
    env.sandbox.say(CUSTOMER, "2")
    await env.sandbox.idle()
    names = [r.value["contacts"][0]["profile"]["name"] for r in env.receiver.received]
    assert names == ["Erika", "Erika"]


async def test_driver_does_not_wait_for_the_bot(env: Env) -> None:
    env.receiver.script = [500]
    env.sandbox.configure(redelivery_seconds=[0.2])
    wamid = env.sandbox.say(CUSTOMER, "x")  # synchronous: returns before any delivery
    assert wamid.startswith("wamid.")
    assert env.receiver.received == []
    await env.sandbox.idle()
    assert len(env.receiver.received) == 2


async def test_messages_of_one_customer_arrive_in_order(env: Env) -> None:
    sent = [env.sandbox.say(CUSTOMER, str(i)) for i in range(10)]
    await env.sandbox.idle()
    assert [m["id"] for m in env.receiver.messages] == sent


async def test_redelivery_after_500(env: Env) -> None:
    env.receiver.script = [500, 503]
    wamid = env.sandbox.say(CUSTOMER, "x")
    await env.sandbox.idle()
    bodies = [r.body for r in env.receiver.received]
    assert len(bodies) == 3 and len(set(bodies)) == 1  # same bytes, same signature
    assert len({r.headers["X-Hub-Signature-256"] for r in env.receiver.received}) == 1
    (record,) = env.sandbox.deliveries()
    assert record["message_ids"] == [wamid]
    assert record["state"] == "delivered"
    assert [a["status_code"] for a in record["attempts"]] == [500, 503, 200]


async def test_gives_up_after_the_configured_delays(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.sandbox.configure(redelivery_seconds=[0.0, 0.0, 0.0])
    env.receiver.script = [500] * 10
    with caplog.at_level(logging.WARNING, logger="bot.sandbox"):
        env.sandbox.say(CUSTOMER, "x")
        await env.sandbox.idle()
    assert len(env.receiver.received) == 4
    (record,) = env.sandbox.deliveries()
    assert record["state"] == "gave_up"
    assert "gave up after 4 attempts" in caplog.text


async def test_connection_error_is_retried_then_given_up() -> None:
    settings = make_settings(1, redelivery_seconds=[0.0])  # nothing listens on port 1
    async with SandboxServer(settings, port=0) as sandbox:
        sandbox.say(CUSTOMER, "x")
        await sandbox.idle()
        (record,) = sandbox.deliveries()
    assert record["state"] == "gave_up"
    assert [a["status_code"] for a in record["attempts"]] == [None, None]
    assert record["attempts"][0]["error"] == "ConnectError"


async def test_duplicate_deliveries() -> None:
    async with sandbox_env(duplicate_deliveries=True) as env:
        env.sandbox.say(CUSTOMER, "Hallo")
        await env.sandbox.idle()
        response = await env.send_text("Antwort")
        wamid = response.json()["messages"][0]["id"]
        await env.sandbox.idle()
    inbound = env.receiver.received[:2]
    assert inbound[0].body == inbound[1].body
    statuses = [s["status"] for s in env.receiver.statuses if s["id"] == wamid]
    assert statuses == ["sent", "sent", "delivered", "delivered", "read", "read"]
    copies = [d["copy"] for d in env.sandbox.deliveries()]
    assert copies == [1, 2] * 4


async def test_duplicates_can_be_switched_at_runtime(env: Env) -> None:
    env.sandbox.configure(duplicate_deliveries=True)
    env.sandbox.say(CUSTOMER, "1")
    await env.sandbox.idle()
    env.sandbox.configure(duplicate_deliveries=False)
    env.sandbox.say(CUSTOMER, "2")
    await env.sandbox.idle()
    assert [m["text"]["body"] for m in env.receiver.messages] == ["1", "1", "2"]


async def test_raw_webhook_is_delivered_as_is(env: Env) -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {"x": 1}}]}],
    }
    env.sandbox.post_webhook(payload)
    await env.sandbox.idle()
    (received,) = env.receiver.received
    assert received.json == payload
    assert received.signature_ok()


async def test_webhook_url_override(env: Env) -> None:
    env.sandbox.configure(webhook_url=env.receiver.url + "?via=override")
    env.sandbox.say(CUSTOMER, "x")
    await env.sandbox.idle()
    assert env.sandbox.deliveries()[0]["url"].endswith("?via=override")
    assert len(env.receiver.received) == 1


async def test_default_webhook_url_comes_from_server_section() -> None:
    settings = make_settings(8123)
    settings.server.host = "0.0.0.0"
    assert SandboxServer(settings).webhook_url == "http://127.0.0.1:8123/webhooks/whatsapp"


async def test_verification_handshake(env: Env) -> None:
    report = await env.sandbox.verify_webhook(challenge="1158201444")
    assert report["ok"] is True
    assert report["status_code"] == 200
    assert report["body"] == "1158201444"
    bad = await env.sandbox.verify_webhook(verify_token="wrong")
    assert bad["ok"] is False
    assert bad["status_code"] == 403


async def test_idle_with_max_wait_reports_timeout(env: Env) -> None:
    env.sandbox.configure(redelivery_seconds=[5.0])
    env.receiver.script = [500]
    env.sandbox.say(CUSTOMER, "x")
    assert await env.sandbox.idle(max_wait=0.2) is False
    await env.sandbox.reset()  # cancels the pending redelivery
    assert await env.sandbox.idle(max_wait=0.2) is True
    assert env.sandbox.deliveries() == []


async def test_stop_cancels_pending_work() -> None:
    async with sandbox_env(redelivery_seconds=[30.0]) as env:
        env.receiver.script = [500]
        env.sandbox.say(CUSTOMER, "x")
        await asyncio.wait_for(env.receiver.arrived.wait(), 5)
        await asyncio.sleep(0.01)  # let the sandbox see the 500 and schedule the redelivery
        assert env.sandbox.background.pending == 1  # the redelivery, waiting 30 s
    assert env.sandbox.background.pending == 0


async def test_logs_never_contain_the_full_number(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    env.receiver.script = [500] * 5
    env.sandbox.configure(redelivery_seconds=[0.0])
    with caplog.at_level(logging.DEBUG, logger="bot.sandbox"):
        env.sandbox.say(CUSTOMER, "x")
        await env.sandbox.idle()
        await env.send_text("y")
        env.sandbox.set_unreachable(CUSTOMER)
        await env.sandbox.idle()
    sandbox_logs = [r.getMessage() for r in caplog.records if r.name.startswith("bot.sandbox")]
    assert sandbox_logs
    assert not any(CUSTOMER_WA_ID[-6:] in line for line in sandbox_logs)
    assert any("…78" in line for line in sandbox_logs)
