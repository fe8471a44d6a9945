"""What a Slack request holds cannot forge a log line or make one long.

Probe report 2 (2026-12-02), D2: a signed event whose ``channel`` was
``"C0TEST\\n2026-… ERROR empfang: forged line"`` wrote a line that read as a genuine
ERROR entry; a 20,000-character channel or a 30,000-character ``event_id`` (sent twice)
wrote 20-30 KB lines; a channel of enclosed digits passed the log's number mask. Two
layers now: HTTP mode refuses a Slack id or timestamp not of Slack's shape (400), and
every value from a request is logged escaped and cut (also in Socket Mode, which has no
schema, and for headers).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest

from tests.fakes.slack import event_callback
from tests.slack.stack import (
    AGENT,
    FORGED_LINE,
    HOSTILE_IDS,
    REPLY_EVENT,
    SlackStack,
    unsafe_log_messages,
)

ODD_DIGITS = HOSTILE_IDS[2]


def _event(event_id: str | None = None, **changes: Any) -> bytes:
    body = event_callback({**REPLY_EVENT, **changes}, event_id or f"Ev{time.time_ns()}")
    return json.dumps(body).encode()


async def _post(stack: SlackStack, body: bytes, **headers: str) -> httpx.Response:
    assert stack.bot is not None
    sent = {"Content-Type": "application/json", **stack.fake.signed_headers(body), **headers}
    async with httpx.AsyncClient() as client:
        return await client.post(f"{stack.bot.url}/slack/events", content=body, headers=sent)


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The bot's log at INFO, where the lines a request causes are."""
    caplog.set_level(logging.INFO, logger="empfang")
    return caplog


def _assert_log_safe(caplog: pytest.LogCaptureFixture) -> None:
    assert unsafe_log_messages(caplog.records) == []
    assert "forged line" not in caplog.text
    assert "⑴" not in caplog.text


@pytest.mark.parametrize("mode", ["http"])
async def test_slack_ids_and_timestamps_not_of_slacks_shape_are_400(
    stack: SlackStack, logged: pytest.LogCaptureFixture
) -> None:
    stored = stack.rows("SELECT count(*) FROM messages")
    bodies = {
        **{f"channel {value[:12]!r}": _event(channel=value) for value in HOSTILE_IDS},
        **{f"event_id {value[:12]!r}": _event(event_id="Ev" + value) for value in HOSTILE_IDS},
        "event_id 30,000 characters": _event(event_id="Ev" + "0" * 30_000),
        "user with a line break": _event(user=AGENT + "\nforged line"),
        "ts of Arabic-Indic digits": _event(ts="١٧٠٠٠٠٠٠٠٠.٠٠٠١٠٠"),
        "thread_ts not seconds.fraction": _event(thread_ts="1700000000"),
        "a reaction's channel": _event(
            type="reaction_added", reaction="eyes", item={"type": "message", "channel": FORGED_LINE}
        ),
        "a file's id": _event(subtype="file_share", files=[{"id": "F1\nforged line"}]),
        "team_id": json.dumps({**json.loads(_event()), "team_id": ODD_DIGITS}).encode(),
    }
    for name, body in bodies.items():
        for _ in range(2):  # the second one was logged as "delivered again"
            answer = await _post(stack, body)
            assert (answer.status_code, answer.headers.get("X-Slack-No-Retry")) == (400, "1"), name
    assert (
        await _post(stack, _event(channel=FORGED_LINE))
    ).text == "body.event.channel is not a Slack id"
    assert stack.rows("SELECT count(*) FROM messages") == stored
    _assert_log_safe(logged)


@pytest.mark.parametrize("mode", ["http"])
async def test_a_header_the_schema_does_not_read_is_logged_cut(
    stack: SlackStack, logged: pytest.LogCaptureFixture
) -> None:
    """``X-Slack-Retry-Num`` of a redelivery was logged as it came (8 KB here)."""
    body = _event()
    assert (await _post(stack, body)).status_code == 200
    again = await _post(stack, body, **{"X-Slack-Retry-Num": "1, " + "x" * 8_000})
    assert again.status_code == 200
    again_lines = [r.getMessage() for r in logged.records if "delivered again" in r.getMessage()]
    assert len(again_lines) == 1 and "retry 1, xxx" in again_lines[0]
    _assert_log_safe(logged)


@pytest.mark.parametrize("mode", ["socket"])
async def test_socket_mode_events_from_hostile_channels_are_logged_escaped(
    stack: SlackStack, logged: pytest.LogCaptureFixture
) -> None:
    """Socket Mode has no schema (Slack's own connection): the log line itself is safe."""
    for number, channel_id in enumerate(HOSTILE_IDS):
        stack.fake.add_channel(channel_id, f"elsewhere-{number}", bot_member=True)
        await stack.fake.agent_reply(None, AGENT, "geheim", channel_id=channel_id)
    ignored = [r.getMessage() for r in logged.records if "no number is routed" in r.getMessage()]
    assert len(ignored) == len(HOSTILE_IDS)  # each event acked, so its line written
    assert ignored[0] == (
        "slack: events from channel C0TEST\\n2026-12-02 01:00:00,000 ERROR emp… ignored: "
        "no number is routed there"
    )
    _assert_log_safe(logged)
