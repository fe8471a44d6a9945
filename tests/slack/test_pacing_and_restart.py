"""Pacing against Slack's per-channel limit, and idempotent posting across failures and
restarts: every customer line arrives once, in order."""

from __future__ import annotations

import time

import pytest

from adapters.slack import pacing
from tests.fakes.slack import FakeSlack
from tests.numbers import CUSTOMER, CUSTOMER_2, CUSTOMER_3, THIRD_PARTY
from tests.slack.conftest import StartStack
from tests.slack.stack import AGENT, Mode, SlackStack, leaks, wait_for

ANNA = "+" + CUSTOMER
BURST_NUMBERS = [CUSTOMER, CUSTOMER_2, CUSTOMER_3, THIRD_PARTY, "4930901820456"]


@pytest.mark.parametrize(
    ("mode", "seconds_per_post"),
    [("socket", 1.0), ("http", 0.25)],
    ids=["socket-real-time", "http-4x"],
)
async def test_burst_of_60_lines_in_5_conversations(
    mode: Mode, seconds_per_post: float, start_stack: StartStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slack's real limit (1 post/s/channel, short bursts) in Socket Mode; 4× faster in HTTP
    mode to keep the suite short. Lines wait in the queue and are combined, not dropped."""
    monkeypatch.setattr(pacing, "POST_INTERVAL_SECONDS", seconds_per_post)
    fake = FakeSlack(mode=mode, rate=1 / seconds_per_post, burst=3)
    stack = await start_stack(mode, fake=fake)
    expected: dict[str, list[str]] = {number: [] for number in BURST_NUMBERS}
    started = time.monotonic()
    for n in range(12):
        for index, number in enumerate(BURST_NUMBERS):
            line = f"Kunde {index} Zeile {n:02d}"
            expected[number].append(line)
            stack.say("+" + number, line)

    for number, lines in expected.items():
        thread = await stack.thread_of("+" + number, seconds=60)
        await stack.lines_arrive(thread, lines, seconds=60)
        assert stack.lines(thread) == lines  # each line once, in order
    elapsed = time.monotonic() - started

    posts = len(fake.posts())
    assert len(fake.rate_limited) <= 3, fake.rate_limited  # no 429 storm
    assert fake.early_posts == []  # every Retry-After honoured
    assert posts < 60 + 5  # lines were combined
    assert leaks(fake.wire_text(), BURST_NUMBERS) == []
    print(f"\n{mode}: 60 lines, {posts} posts, {len(fake.rate_limited)} 429s, {elapsed:.1f}s")


async def test_429_is_honoured_by_every_waiting_post(
    start_stack: StartStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another app used up the channel's budget: the bot's post gets 429 + Retry-After 1 s;
    neither that job nor the posts already waiting for their slot go out before it passed."""
    monkeypatch.setattr(pacing, "POST_INTERVAL_SECONDS", 0.2)
    stack = await start_stack("socket", fake=FakeSlack(mode="socket", rate=5, ack_timeout=1))
    stack.fake.latency["chat.postMessage"] = 0.05
    numbers = ["+" + n for n in BURST_NUMBERS]
    for number in numbers:
        stack.say(number, "Hallo")
    threads = [await stack.thread_of(number) for number in numbers]
    await stack.settled()
    stack.fake.throttle(1)
    started = time.monotonic()
    for number in numbers:
        stack.say(number, "Noch da?")
    for thread in threads:
        await stack.lines_arrive(thread, ["Hallo", "Noch da?"])
        assert stack.lines(thread) == ["Hallo", "Noch da?"]
    assert len(stack.fake.rate_limited) == 1
    assert stack.fake.rate_limited[0].retry_after == 1
    assert stack.fake.early_posts == []
    assert time.monotonic() - started >= 1.0


async def test_post_with_unknown_outcome_is_not_repeated(
    fast_slack: None, start_stack: StartStack
) -> None:
    """Slack stored the post but answered 500: the retry finds the post by its metadata."""
    stack = await start_stack("socket")
    stack.say(ANNA, "Erste Nachricht")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Erste Nachricht"])

    stack.fake.fail_next("chat.postMessage", status=500, after_effect=True)
    stack.say(ANNA, "Zweite Nachricht")
    await stack.settled()

    assert stack.lines(thread) == ["Erste Nachricht", "Zweite Nachricht"]
    assert len(stack.fake.calls("conversations.replies")) == 1
    failed = [r for r in stack.fake.calls("chat.postMessage") if r.status == 500]
    assert len(failed) == 1


async def test_restart_without_duplicates(
    mode: Mode, fast_slack: None, start_stack: StartStack
) -> None:
    """The bot dies after Slack stored a post but before the bot recorded it; meanwhile an
    agent answers. The new process finds the post and gets the answer, each exactly once."""
    stack: SlackStack = await start_stack(mode, jobs={"lease_seconds": 1.0})
    stack.say(ANNA, "Erste Nachricht")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Erste Nachricht"])

    stack.fake.fail_next("chat.postMessage", status=500, after_effect=True, delay=3.0)
    stack.say(ANNA, "Zweite Nachricht")
    await stack.lines_arrive(thread, ["Zweite Nachricht"])  # stored at Slack, not yet answered
    await stack.stop_bot(drain_seconds=0.1)

    reply = await stack.fake.agent_reply(thread, AGENT, "Sind gleich wieder da", wait=False)
    await stack.start_bot()
    stack.say(ANNA, "Dritte Nachricht")
    await stack.lines_arrive(thread, ["Dritte Nachricht"], seconds=20)
    await wait_for(lambda: stack.fake.reactions(reply) == ["eyes"], seconds=20)
    await stack.settled()

    assert stack.lines(thread) == ["Erste Nachricht", "Zweite Nachricht", "Dritte Nachricht"]
    assert len(stack.fake.roots()) == 1
    assert [m["text"] for m in stack.inbox(ANNA)] == ["Sind gleich wieder da"]
    assert stack.rows("SELECT count(*) FROM messages WHERE direction = 'out'") == [(1,)]
    # The new process looked the thread up once instead of posting blindly …
    assert len(stack.fake.calls("conversations.replies")) == 1
    # … and the answer written while it was down came on Slack's redelivery.
    delivery = next(d for d in stack.fake.deliveries if d.body["event"].get("ts") == reply)
    assert delivery.acked and len(delivery.attempts) >= 2
