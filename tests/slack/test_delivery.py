"""Slack delivering to the bot: retries processed once, signatures checked (HTTP mode)."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import httpx
import pytest

from tests.fakes.slack import BOT_ID, Delivery, FakeSlack
from tests.numbers import CUSTOMER
from tests.slack.conftest import StartStack
from tests.slack.stack import AGENT, Mode, SlackStack, wait_for
from tests.support.calls import counting

ANNA = "+" + CUSTOMER


async def _thread(stack: SlackStack) -> str:
    stack.say(ANNA, "Hallo")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Hallo"])
    return thread


def _outbound(stack: SlackStack) -> list[tuple[str]]:
    return stack.rows("SELECT body FROM messages WHERE direction = 'out' ORDER BY id")


def _delivery_of(fake: FakeSlack, ts: str) -> Delivery:
    return next(d for d in fake.deliveries if d.body.get("event", {}).get("ts") == ts)


async def test_lost_ack_redelivery_is_processed_once(stack: SlackStack) -> None:
    thread = await _thread(stack)
    await stack.fake.idle()
    stack.fake.lose_acks = 1  # the bot's ack / 200 never reaches Slack

    reply = await stack.fake.agent_reply(thread, AGENT, "Einmal bitte")
    await stack.settled()

    delivery = _delivery_of(stack.fake, reply)
    assert [a.outcome for a in delivery.attempts] == ["ack_lost", "acked"]
    assert _outbound(stack) == [("Einmal bitte",)]
    assert [m["text"] for m in stack.inbox(ANNA)] == ["Einmal bitte"]


async def test_retry_while_the_first_delivery_is_still_processed(
    mode: Mode, fast_slack: None, start_stack: StartStack
) -> None:
    """The bot is slow (its users.info call hangs past Slack's timeout), so Slack sends the
    event again while the first delivery is still being handled."""
    fake = FakeSlack(mode=mode, rate=20, ack_timeout=0.3, retry_delays=(0.05, 0.5))
    stack = await start_stack(mode, fake=fake)
    thread = await _thread(stack)
    fake.latency["users.info"] = 0.8

    reply = await fake.agent_reply(thread, AGENT, "Langsam, aber nur einmal")
    await wait_for(lambda: _outbound(stack), seconds=5)
    await stack.settled()

    delivery = _delivery_of(fake, reply)
    assert [a.outcome for a in delivery.attempts][:2] == ["timeout", "acked"]
    assert _outbound(stack) == [("Langsam, aber nur einmal",)]
    assert [m["text"] for m in stack.inbox(ANNA)] == ["Langsam, aber nur einmal"]


@pytest.mark.parametrize("mode", ["http"])
async def test_forged_and_stale_signatures_are_rejected(stack: SlackStack) -> None:
    thread = await _thread(stack)
    assert stack.bot is not None
    event = {
        "token": "x",
        "team_id": "T0FAKETEAM",
        "api_app_id": "A0EMPFANG",
        "type": "event_callback",
        "event_id": "Ev0FORGED01",
        "event_time": int(time.time()),
        "event": {
            "type": "message",
            "channel": stack.fake.channel_id,
            "user": AGENT,
            "text": "Überweisen Sie 500 € an …",
            "ts": f"{time.time():.6f}",
            "thread_ts": thread,
            "channel_type": "channel",
        },
    }
    body = json.dumps(event).encode()
    events_url = f"{stack.bot.url}/slack/events"
    now = int(time.time())
    forged = {
        "X-Slack-Request-Timestamp": str(now),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    stale = stack.fake.signed_headers(body, timestamp=now - 301)
    other_secret = FakeSlack(mode="http")
    other_secret.signing_secret = "not-the-apps-secret"
    wrong_key = other_secret.signed_headers(body)
    press = {"type": "block_actions", "actions": [{"action_id": "close"}]}
    form = urlencode({"payload": json.dumps(press)}).encode()

    async with httpx.AsyncClient() as client:
        answers = [
            await client.post(
                events_url, content=body, headers={"Content-Type": "application/json", **h}
            )
            for h in (forged, stale, wrong_key, {})
        ]
        button = await client.post(
            f"{stack.bot.url}/slack/interactivity",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", **forged},
        )
        await stack.settled()
        assert [a.status_code for a in answers] == [401, 401, 401, 401]
        assert button.status_code == 401
        assert _outbound(stack) == []
        assert "State: open" in stack.fake.message(thread)["text"]

        # The same event correctly signed now is accepted: only the signature was wrong.
        good = await client.post(
            events_url,
            content=body,
            headers={"Content-Type": "application/json", **stack.fake.signed_headers(body)},
        )
    assert good.status_code == 200
    await wait_for(lambda: _outbound(stack))
    assert _outbound(stack) == [("Überweisen Sie 500 € an …",)]


async def test_socket_mode_reconnects_when_slack_asks(
    fast_slack: None, start_stack: StartStack
) -> None:
    stack = await start_stack("socket")
    thread = await _thread(stack)
    await stack.fake.disconnect_socket()
    await wait_for(lambda: len(stack.fake.calls("apps.connections.open")) == 2)

    await stack.fake.agent_reply(thread, AGENT, "Nach dem Reconnect")
    await stack.settled()
    assert [m["text"] for m in stack.inbox(ANNA)] == ["Nach dem Reconnect"]


async def test_web_api_calls_share_kept_alive_connections(stack: SlackStack) -> None:
    """slack_sdk opened an HTTP session and a TCP connection for every call when not given
    one: a connection set-up per post, and ~23 % of the bot's Python calls per message."""
    thread = await _thread(stack)
    for n in range(10):
        stack.say(ANNA, f"Zeile {n}")
    await stack.lines_arrive(thread, ["Hallo", *(f"Zeile {n}" for n in range(10))])
    calls = [r for r in stack.fake.requests if r.method.startswith("chat.")]
    assert len(calls) >= 2
    assert len({r.peer for r in calls}) < len(calls) / 2, "a connection per call"


@pytest.mark.parametrize("mode", ["http"])
async def test_the_echo_of_an_own_post_is_answered_without_bolt(stack: SlackStack) -> None:
    """Slack sends a ``message`` event for each of the bot's own posts; bolt only drops it,
    after building a request and running its middleware (~0.2 ms of CPU per relayed
    message). Answered 200 before bolt (fails before: one bolt dispatch per echo)."""
    with counting() as seen:
        thread = await _thread(stack)
        await stack.fake.idle()
    echoes = [d for d in stack.fake.deliveries if d.body["event"].get("bot_id") == BOT_ID]
    assert len(echoes) == 2  # the thread's root and the customer's line
    assert all(d.acked and len(d.attempts) == 1 for d in echoes)
    assert seen["slack_bolt.app.async_app.AsyncApp.async_dispatch"] == 0
    assert stack.lines(thread) == ["Hallo"]

    # An agent's message still goes through bolt to the relay.
    with counting() as seen:
        reply = await stack.fake.agent_reply(thread, AGENT, "Gern")
        await _delivery_of(stack.fake, reply).wait()
    assert seen["slack_bolt.app.async_app.AsyncApp.async_dispatch"]  # each resumption counts
    await wait_for(lambda: _outbound(stack) == [("Gern",)])
