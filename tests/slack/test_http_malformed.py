"""Slack HTTP mode: a signed request of the wrong shape gets a defined answer (400, or 200
for what no listener wants), a bad signature of any form 401; never 500 or 503, nothing
stored, no traceback, nothing of the body logged.

Probe report of 2026-12-02, defects 1 (signed bodies whose fields had the wrong type: 500
from a listener, a traceback per request), 2a (``X-Slack-Signature: v0=é…``: 503) and 2b
(a signed body that is not UTF-8 or not an object: 503).
"""

from __future__ import annotations

import copy
import json
import logging
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from adapters.slack.failures import Failures
from tests.fakes.slack import CHANNEL, event_callback
from tests.slack.stack import AGENT, REPLY_EVENT, SlackStack

PRESS = {
    "type": "block_actions",
    "user": {"id": AGENT, "username": "anna"},
    "team": {"id": "T0FAKETEAM"},
    "channel": {"id": CHANNEL},
    "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": CHANNEL},
    "trigger_id": "t",
    "actions": [{"action_id": "claim", "value": "1", "block_id": "b"}],
}


def _event(**changes: Any) -> bytes:
    event = {**REPLY_EVENT, **changes}
    return json.dumps(event_callback(event, f"Ev{time.time_ns()}")).encode()


def _press(payload: Any) -> bytes:
    return b"payload=" + quote(json.dumps(payload)).encode()


def _with(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    node = changed
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return changed


async def _post(
    stack: SlackStack, path: str, body: bytes, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    assert stack.bot is not None
    content_type = (
        "application/json" if path == "/slack/events" else ("application/x-www-form-urlencoded")
    )
    sent = {"Content-Type": content_type, **stack.fake.signed_headers(body), **(headers or {})}
    async with httpx.AsyncClient() as client:
        return await client.post(f"{stack.bot.url}{path}", content=body, headers=sent)


def _quiet(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("mode", ["http"])
async def test_a_signature_header_that_is_not_ascii_is_refused_like_any_bad_one(
    stack: SlackStack, caplog: pytest.LogCaptureFixture
) -> None:
    """2a: ``hmac.compare_digest`` raised TypeError on the str: 503."""
    body = _event()
    for signature in ["v0=" + "é" * 64, "v0=" + "0" * 63 + "é", "é", "v0=" + "0" * 64 + "é"]:
        headers = {"X-Slack-Signature": signature}
        sent = signature.encode("utf-8")
        assert stack.bot is not None
        raw = {**stack.fake.signed_headers(body), "Content-Type": "application/json"}
        raw_headers = [(k.encode(), v.encode()) for k, v in raw.items() if k != "X-Slack-Signature"]
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{stack.bot.url}/slack/events",
                content=body,
                headers=[*raw_headers, (b"X-Slack-Signature", sent)],
            )
        assert answer.status_code == 401, (headers, answer.status_code)
        assert answer.text == "invalid request"
    assert not _quiet(caplog)


@pytest.mark.parametrize("mode", ["http"])
async def test_a_signed_body_that_is_not_utf8_is_400(
    stack: SlackStack, caplog: pytest.LogCaptureFixture
) -> None:
    """2b: slack_sdk decoded the body before comparing the signature: UnicodeDecodeError,
    503. Now the signature is checked over the bytes, and the body is refused by name."""
    answer = await _post(stack, "/slack/events", b"\xff\xfe{")
    assert (answer.status_code, answer.text) == (400, "the body is not UTF-8")
    assert answer.headers["X-Slack-No-Retry"] == "1"
    answer = await _post(stack, "/slack/interactivity", b"payload=\xff\xfe")
    assert answer.status_code == 400
    assert not _quiet(caplog)


EVENTS = {
    "body is an array": b"[]",
    "body is a string": b'"x"',
    "empty body": b"",
    "not JSON": b"{not json",
    "event null": json.dumps(event_callback(None, "Ev1")).encode(),  # type: ignore[arg-type]
    "event a list": json.dumps(event_callback([], "Ev2")).encode(),  # type: ignore[arg-type]
    "event without type": _event(type=None),
    "channel a list": _event(channel=[CHANNEL]),
    "channel an object": _event(channel={"id": CHANNEL}),
    "user a list": _event(user=[AGENT]),
    "ts a number": _event(ts=1.5),
    "thread_ts a list": _event(thread_ts=[]),
    "subtype a list": _event(subtype=["file_share"]),
    "text an object": _event(text={"a": 1}),
    "files not a list": _event(subtype="file_share", files={"id": "F1"}),
    "a file's mode a list": _event(subtype="file_share", files=[{"id": "F1", "mode": []}]),
    "edit's message a list": _event(subtype="message_changed", message=[]),
    "edit's text a list": _event(subtype="message_changed", message={"ts": "1.2", "text": []}),
    "reaction's item a list": _event(type="reaction_added", item=[], reaction="eyes"),
    "reaction's channel a list": _event(
        type="reaction_added", item={"type": "message", "channel": [], "ts": "1.2"}
    ),
    "reaction a number": _event(type="reaction_added", reaction=5),
    "event_id a number": json.dumps({**json.loads(_event()), "event_id": 5}).encode(),
    "authorizations a string": json.dumps({**json.loads(_event()), "authorizations": "x"}).encode(),
    "lone surrogate in text": _event().replace(b'"Hallo"', b'"\\ud83d"'),
    "nested too deep": b'{"type":"event_callback","event":' + b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("mode", ["http"])
async def test_signed_events_of_the_wrong_shape_are_400_and_store_nothing(
    stack: SlackStack, caplog: pytest.LogCaptureFixture
) -> None:
    """1, 2b: 500 from a listener (``unhashable type: 'list'``) or 503 from bolt."""
    stored = stack.rows("SELECT count(*) FROM messages")
    answers = {name: await _post(stack, "/slack/events", body) for name, body in EVENTS.items()}
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(EVENTS, 400)
    assert all(a.headers["X-Slack-No-Retry"] == "1" for a in answers.values())
    assert answers["channel a list"].text == "body.event.channel is not a string"
    assert answers["event null"].text == "body.event is missing or empty"
    assert stack.rows("SELECT count(*) FROM messages") == stored
    assert not _quiet(caplog)
    assert "Hallo" not in caplog.text


LEGACY_PRESS = {
    "type": "interactive_message",
    "callback_id": "claim",
    "actions": [{"name": "claim", "type": "button", "value": "1"}],
    "team": {"id": "T0FAKETEAM", "domain": "fake"},
    "channel": {"id": CHANNEL, "name": "support"},
    "user": {"id": AGENT, "name": "anna"},
    "action_ts": "1700000000.000200",
    "message_ts": "1700000000.000001",
    "attachment_id": "1",
    "trigger_id": "t",
    "response_url": "https://hooks.slack.com/actions/T0FAKETEAM/1/x",
}
"""A press on a legacy message attachment's button (Slack's ``interactive_message``):
``actions[].name``, no ``action_id``; bolt routes it by ``callback_id`` (here one of the
bot's own action names, which must still do nothing)."""

PRESSES = {
    "no payload field": b"a=b",
    "payload not JSON": b"payload=%7Bnot-json",
    "payload an array": b"payload=%5B%5D",
    "payload not UTF-8": b"payload=%FF%FE",
    "actions null": _press({**PRESS, "actions": None}),
    "actions empty": _press({**PRESS, "actions": []}),
    "actions an object": _press({**PRESS, "actions": {"action_id": "claim"}}),
    "an action a number": _press({**PRESS, "actions": [5]}),
    "action_id a number": _press(_with(PRESS, ("actions",), [{"action_id": 5}])),
    "a button press without action_id": _press(_with(PRESS, ("actions",), [{"value": "1"}])),
    "callback_id a number": _press({**LEGACY_PRESS, "callback_id": 5}),
    "container a list": _press({**PRESS, "container": []}),
    "message_ts a number": _press(_with(PRESS, ("container", "message_ts"), 1.5)),
    "user's id a list": _press(_with(PRESS, ("user", "id"), [])),
    "channel a list": _press({**PRESS, "channel": ["x"]}),
    "submission without view": _press({**PRESS, "type": "view_submission", "actions": None}),
    "submission's view without type": _press(
        {**PRESS, "type": "view_submission", "view": {"id": "V1", "callback_id": "c"}}
    ),
    "a workflow step's save without its step": _press(
        {**PRESS, "type": "view_submission", "view": {"type": "workflow_step", "callback_id": "c"}}
    ),
    "submission's values a list": _press(
        {
            **PRESS,
            "type": "view_submission",
            "view": {"id": "V1", "callback_id": "empfang_template", "state": {"values": []}},
        }
    ),
    "a chosen option a string": _press(
        {
            **PRESS,
            "view": {
                "state": {"values": {"template": {"template_choice": {"selected_option": "x"}}}}
            },
        }
    ),
}


@pytest.mark.parametrize("mode", ["http"])
async def test_signed_interactions_of_the_wrong_shape_are_400(
    stack: SlackStack, caplog: pytest.LogCaptureFixture
) -> None:
    """1: ``action_id`` 5 or ``actions`` null was a 500; a payload not JSON a 503."""
    path = "/slack/interactivity"
    answers = {name: await _post(stack, path, body) for name, body in PRESSES.items()}
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(PRESSES, 400)
    assert answers["action_id a number"].text == "body.actions[].action_id is not a string"
    assert not _quiet(caplog)
    assert not stack.fake.calls("chat.postEphemeral")


@pytest.mark.parametrize("mode", ["http"])
async def test_what_no_listener_wants_is_200_not_404(stack: SlackStack) -> None:
    """bolt answered 404 (Slack delivers it three more times): an event type, a button or
    a form the bot does not handle is acknowledged and ignored. Probe report 2, D4: a
    legacy ``interactive_message`` press was 400, as its actions have no ``action_id``."""
    other_event = _event(type="app_mention")
    other_button = _press(_with(PRESS, ("actions",), [{"action_id": "someone_elses"}]))
    shortcut = _press({"type": "shortcut", "callback_id": "x", "trigger_id": "t"})
    for path, body in [
        ("/slack/events", other_event),
        ("/slack/interactivity", other_button),
        ("/slack/interactivity", shortcut),
        ("/slack/interactivity", _press(LEGACY_PRESS)),
        ("/slack/interactivity", _press({**LEGACY_PRESS, "callback_id": "someone_elses"})),
    ]:
        answer = await _post(stack, path, body)
        assert answer.status_code == 200, (path, answer.text)
    assert not stack.fake.calls("chat.postEphemeral")


@pytest.mark.parametrize("mode", ["http"])
async def test_a_wellformed_reply_still_reaches_the_customer(stack: SlackStack) -> None:
    """The checks refuse shapes, not Slack's real events (the fake sends them as Slack)."""
    stack.say("+4915112345678", "Hallo")
    thread = await stack.thread_of("+4915112345678")
    await stack.fake.agent_reply(thread, AGENT, "Guten Tag")
    await stack.settled()
    assert [m["text"] for m in stack.inbox("+4915112345678")] == ["Guten Tag"]
    assert all(d.acked for d in stack.fake.deliveries)


def test_a_listener_failure_is_answered_by_kind_and_its_stack_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No 500: unavailability is 503 (redelivered), anything else 400 without a retry;
    the stack once per kind, without the exception's message (it can quote the request)."""
    from bot.errors import PlatformError, StoreError

    failures = Failures()

    def raised(error: Exception) -> Exception:
        try:
            raise error
        except Exception as caught:
            return caught

    answers = [
        failures.response(raised(TypeError("unhashable type: 'list' 4915112345678")))
        for _ in range(3)
    ]
    assert [a.status for a in answers] == [400, 400, 400]
    assert answers[0].first_headers()["x-slack-no-retry"] == "1"
    assert failures.response(raised(StoreError("database is locked"))).status == 503
    assert failures.response(raised(PlatformError("slack down"))).status == 503
    assert failures.response(raised(ConnectionResetError())).status == 503
    stacks = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(stacks) == 4  # TypeError, StoreError, PlatformError, OSError: once each
    assert "4915112345678" not in caplog.text
    assert "unhashable" not in caplog.text
    assert "again (3 so far); answered 400" in caplog.text
