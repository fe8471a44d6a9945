"""Property-based fuzzing of Slack's HTTP routes: real-shaped events and interaction
payloads, mutated, serialised, sometimes byte-flipped, signed (a few wrongly), posted to
the running bot (fake Slack, real SQLite) through ``/slack/events`` and
``/slack/interactivity``.

The property, for every body: the answer is 200, 400 or 401 (the store and Slack are up,
so neither 503 nor bolt's 500 or 404 is due), a request not answered 200 stored
nothing, and every log line it caused is one line of at most 300 characters (probe report
2, D2: a channel id with a line break forged a log line). Profiles as in
``tests/integration/test_webhook_fuzz.py`` (``ci`` by default, ``EMPFANG_FUZZ_PROFILE=long``
for more, ``EMPFANG_FUZZ_EXAMPLES`` to override).
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.fakes.slack import CHANNEL, FakeSlack, event_callback
from tests.integration.test_webhook_fuzz import JSON_VALUES, PROFILE, BotThread, mutate, paths
from tests.slack.stack import AGENT, HOSTILE_IDS, SlackStack, unsafe_log_messages

SLACK_PROFILE = settings(
    PROFILE,
    max_examples=max(1, PROFILE.max_examples // 3),
    # caplog is read per example, after it is cleared: nothing carries over between them.
    suppress_health_check=[*PROFILE.suppress_health_check, HealthCheck.function_scoped_fixture],
)
"""A third of the intake fuzz's examples: each one here is a round trip through bolt and
the relay (83 in ``ci``, a few seconds)."""
ALLOWED = {200, 400, 401}
ROOT = "1700000000.000001"
MESSAGE = {
    "type": "message",
    "channel": CHANNEL,
    "user": AGENT,
    "text": "Hallo <@U0AGENTBEN>",
    "ts": "1700000000.000100",
    "thread_ts": ROOT,
    "files": [{"id": "F1", "name": "a.pdf", "mimetype": "application/pdf", "size": 3}],
}
EVENTS = [
    MESSAGE,
    {**MESSAGE, "subtype": "message_changed", "message": MESSAGE, "previous_message": {}},
    {
        "type": "reaction_added",
        "user": AGENT,
        "reaction": "+1",
        "item": {"type": "message", "channel": CHANNEL, "ts": ROOT},
    },
]
CONTAINER = {"type": "message", "message_ts": ROOT, "channel_id": CHANNEL}
PAYLOADS = [
    {
        "type": "block_actions",
        "user": {"id": AGENT, "username": "anna"},
        "team": {"id": "T0FAKETEAM"},
        "channel": {"id": CHANNEL},
        "container": CONTAINER,
        "trigger_id": "t",
        "actions": [{"action_id": action, "value": "1", "block_id": "b"}],
    }
    for action in ("claim", "close", "send_template")
] + [
    {
        "type": kind,
        "user": {"id": AGENT},
        "actions": [{"action_id": "template_choice"}] if kind == "block_actions" else None,
        "view": {
            "id": "V1",
            "hash": "h",
            "callback_id": "empfang_template",
            "private_metadata": json.dumps({"channel": CHANNEL, "thread": ROOT}),
            "state": {
                "values": {
                    "template": {"template_choice": {"selected_option": {"value": "a|de"}}},
                    "parameter-1": {"value": {"value": "x"}},
                }
            },
        },
    }
    for kind in ("block_actions", "view_submission")
]


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    """The node at ``path`` (as :func:`paths` yields them)."""
    for step in path:
        doc = doc[step]
    return doc


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """A route, a mutated body for it, and how to sign it (``good`` mostly)."""
    interactive = draw(st.booleans())
    if interactive:
        doc: Any = copy.deepcopy(draw(st.sampled_from(PAYLOADS)))
    else:
        serial = draw(st.integers(min_value=0, max_value=10**9))
        doc = event_callback(copy.deepcopy(draw(st.sampled_from(EVENTS))), f"EvFUZZ{serial}")
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        path = draw(st.sampled_from(list(paths(doc))))
        doc = mutate(
            doc, path, draw(st.sampled_from(["replace", "remove", "add"])), draw(JSON_VALUES)
        )
    texts = [path for path in paths(doc) if isinstance(_at(doc, path), str)]
    if texts and draw(st.booleans()):  # a string made to forge or flood a log line
        path = draw(st.sampled_from(texts))
        doc = mutate(doc, path, "replace", draw(st.sampled_from(HOSTILE_IDS)))
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    if interactive:
        raw = urlencode({"payload": text}, encoding="utf-8", errors="surrogatepass").encode()
    else:
        raw = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        at = draw(st.integers(min_value=0, max_value=max(len(raw) - 1, 0)))
        raw = raw[:at] + bytes([draw(st.integers(min_value=0, max_value=255))]) + raw[at + 1 :]
    route = "/slack/interactivity" if interactive else "/slack/events"
    return route, raw, draw(st.sampled_from(["good"] * 8 + ["wrong", "not ascii"]))


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackStack]:
    store: Path = tmp_path_factory.mktemp("slack-fuzz") / "empfang.sqlite3"
    with BotThread(SlackStack("http", store, FakeSlack(mode="http"))) as started:
        stack = started.app
        # The start's own jobs done first (the retention purge enqueues its next run): a
        # row they add during an example would read as stored by a refused request.
        deadline = time.monotonic() + 30
        while stack.pending_jobs() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield stack


def _stored(stack: SlackStack) -> list[tuple[Any, ...]]:
    return stack.rows("SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM jobs)")


@given(case=requests())
@SLACK_PROFILE
def test_any_signed_slack_request_gets_a_contract_answer(
    running: SlackStack, case: tuple[str, bytes, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="empfang")
    caplog.clear()
    route, raw, signing = case
    assert running.bot is not None
    headers = {
        "Content-Type": "application/json"
        if route == "/slack/events"
        else "application/x-www-form-urlencoded",
        **running.fake.signed_headers(raw),
    }
    sent: list[tuple[bytes, bytes]] = [(k.encode(), v.encode()) for k, v in headers.items()]
    if signing != "good":
        forged = b"v0=" + (b"0" * 64 if signing == "wrong" else "é".encode() * 32)
        sent = [(k, forged if k == b"X-Slack-Signature" else v) for k, v in sent]
    before = _stored(running)
    answer = httpx.post(f"{running.bot.url}{route}", content=raw, headers=sent, timeout=30)
    event(f"{route} {answer.status_code}")
    assert answer.status_code in ALLOWED, answer.text
    if answer.status_code != 200:
        assert _stored(running) == before
    assert unsafe_log_messages(caplog.records) == []
