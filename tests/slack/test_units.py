"""The adapter's pure parts: event translation, text conversion, blocks, pacing, errors."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from adapters.slack import blocks, errors
from adapters.slack.chat_ids import ChatIds, Located
from adapters.slack.events import (
    Identity,
    ParsedAction,
    parse_action,
    parse_message,
    plain_text,
)
from adapters.slack.pacing import ChannelPacer
from bot.domain import DeliveryStatus
from bot.errors import PlatformError
from bot.ids import ThreadId
from bot.ports import ThreadRoot
from bot.texts import ENGLISH, GERMAN, Texts

ME = Identity(user_id="U0BOT", bot_id="B0BOT", channels=frozenset({"C0SUPPORT1", "C0SALES01"}))
ROOT_TS = "1700000000.000100"


def message(**fields: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": "C0SUPPORT1",
        "user": "U0AGENT",
        "text": "Hallo",
        "ts": "1700000001.000200",
        "thread_ts": ROOT_TS,
        **fields,
    }


def test_thread_reply_root_and_top_level() -> None:
    reply = parse_message(message(), ME)
    assert reply is not None and reply.thread_id == ROOT_TS and reply.chat_id.endswith("200")
    root = parse_message(message(ts=ROOT_TS), ME)
    assert root is not None and root.thread_id is None
    top = parse_message({k: v for k, v in message().items() if k != "thread_ts"}, ME)
    assert top is not None and top.thread_id is None


def test_messages_name_their_channel_and_come_only_from_the_bots_channels() -> None:
    """A thread ts is unique only within its channel: the channel travels with it."""
    sales = parse_message(message(channel="C0SALES01"), ME)
    assert sales is not None and sales.channel_id == "C0SALES01" and sales.thread_id == ROOT_TS
    assert parse_message(message(channel="C0ELSEWHERE"), ME) is None
    edit = parse_message(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C0SALES01",
            "ts": "1700000009.000100",
            "message": {**message(), "text": "Hallo!"},
            "previous_message": message(),
        },
        ME,
    )
    assert edit is not None and edit.channel_id == "C0SALES01"


@pytest.mark.parametrize(
    ("fields", "is_bot", "is_self"),
    [
        ({}, False, False),
        ({"user": "U0BOT", "bot_id": "B0BOT"}, True, True),
        ({"subtype": "bot_message", "bot_id": "B0HOOK", "user": None}, True, False),
        ({"bot_id": "B0OTHER", "user": "U0OTHER"}, True, False),
        ({"subtype": "thread_broadcast"}, False, False),
    ],
)
def test_authors(fields: dict[str, Any], is_bot: bool, is_self: bool) -> None:
    parsed = parse_message(message(**fields), ME)
    assert parsed is not None
    assert (parsed.author_is_bot, parsed.author_is_self) == (is_bot, is_self)


@pytest.mark.parametrize(
    "event",
    [
        message(channel="C0ELSEWHERE"),
        message(subtype="channel_join"),
        message(subtype="message_deleted"),
        message(subtype="file_share"),
        {"type": "app_mention", "channel": "C0SUPPORT1", "text": "hi", "ts": "1.2"},
    ],
)
def test_not_relayed(event: dict[str, Any]) -> None:
    assert parse_message(event, ME) is None


def test_edits() -> None:
    new = message(text="Hallo!", edited={"user": "U0AGENT", "ts": "1700000009.0"})
    edit = parse_message(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C0SUPPORT1",
            "ts": "1700000009.000900",
            "message": new,
            "previous_message": message(),
        },
        ME,
    )
    assert edit is not None
    assert (edit.edit_of, edit.thread_id, edit.author_id) == (new["ts"], ROOT_TS, "U0AGENT")
    unchanged = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C0SUPPORT1",
        "ts": "1700000009.000900",
        "message": message(reply_count=3),
        "previous_message": message(),
    }
    assert parse_message(unchanged, ME) is None  # reply counts, unfurls: not an edit


def test_plain_text_for_the_customer() -> None:
    text = (
        "Hi <@U1> &amp; <@U2|old>, see <https://x.org/a?b=1&amp;c=2|docs> or <https://y.org>, "
        "<mailto:a@b.de|a@b.de>, <#C1|support>, <!here>, <!subteam^S1|@team> 1 &lt; 2 &gt; 0"
    )
    assert plain_text(text, {"U1": "Anna"}) == (
        "Hi @Anna & @old, see docs (https://x.org/a?b=1&c=2) or https://y.org, a@b.de, "
        "#support, @here, @team 1 < 2 > 0"
    )


def test_button_presses() -> None:
    body = {
        "type": "block_actions",
        "user": {"id": "U0AGENT"},
        "container": {"message_ts": ROOT_TS, "channel_id": "C0SUPPORT1"},
        "actions": [{"action_id": "claim", "value": "7"}],
    }
    assert parse_action(body, ME) == ParsedAction(
        "claim", "C0SUPPORT1", ThreadId(ROOT_TS), "U0AGENT"
    )
    assert parse_action({**body, "actions": [{"action_id": "other"}]}, ME) is None
    elsewhere = {**body, "container": {"message_ts": ROOT_TS, "channel_id": "C0OTHER"}}
    assert parse_action(elsewhere, ME) is None
    sales = {**body, "container": {"message_ts": ROOT_TS, "channel_id": "C0SALES01"}}
    assert parse_action(sales, ME) == ParsedAction(
        "claim", "C0SALES01", ThreadId(ROOT_TS), "U0AGENT"
    )


def test_root_blocks_follow_the_state() -> None:
    root = ThreadRoot(conversation_id=7, title="💬 K-1 · +49 ••• ••42 <b>", lines=("a", "b"))
    built = blocks.root_blocks(root, ENGLISH)
    assert built[0]["text"]["text"] == "*💬 K-1 · +49 ••• ••42 &lt;b&gt;*"
    actions = built[-1]["elements"]
    assert [(a["action_id"], a["value"]) for a in actions] == [
        ("claim", "7"),
        ("close", "7"),
        ("send_template", "7"),
    ]
    assert all(len(a["text"]["text"]) <= 75 for a in actions)
    claimed_root = root.model_copy(update={"claimed_by": "Anna", "state": "claimed"})
    claimed = blocks.root_blocks(claimed_root, ENGLISH)
    assert claimed[-1]["elements"][0]["text"]["text"] == "Take over"
    assert claimed[-1]["block_id"] != built[-1]["block_id"]
    closed = root.model_copy(update={"state": "closed", "lines": ("State: closed",)})
    assert [b["type"] for b in blocks.root_blocks(closed, ENGLISH)] == ["section", "context"]
    assert set(blocks.STATUS_EMOJI) == set(DeliveryStatus)


@pytest.mark.parametrize("texts", [ENGLISH, GERMAN])
def test_root_buttons_speak_the_configured_language(texts: Texts) -> None:
    """Labels come from the catalogue, fit Slack's 75 characters, and a closed root has no
    buttons whatever language its state line is written in."""
    root = ThreadRoot(conversation_id=7, title="💬 K-1", lines=(texts.root_state_waiting,))
    actions = blocks.root_blocks(root, texts)[-1]
    claim, close, template = actions["elements"]
    assert template["text"]["text"] == texts.button_send_template
    assert claim["text"]["text"] == texts.button_claim
    assert close["text"]["text"] == texts.button_close
    assert close["confirm"]["title"]["text"] == texts.close_confirm_title
    assert close["confirm"]["deny"]["text"] == texts.button_cancel
    labels = [claim["text"]["text"], close["text"]["text"], texts.button_take_over]
    assert all(len(label) <= 75 for label in labels)
    closed = ThreadRoot(
        conversation_id=7, title="💬 K-1", lines=(texts.root_state_closed,), state="closed"
    )
    assert [b["type"] for b in blocks.root_blocks(closed, texts)] == ["section", "context"]


def test_pacer_spaces_posts_and_holds_after_429() -> None:
    now = [100.0]
    pacer = ChannelPacer(1.0, max_wait=5.0, clock=lambda: now[0])
    assert [pacer.reserve("C1") for _ in range(3)] == [0.0, 1.0, 2.0]
    assert pacer.reserve("C2") == 0.0  # channels are independent
    pacer.hold("C1", 30)
    with pytest.raises(PlatformError) as busy:
        pacer.reserve("C1")
    assert busy.value.retry_after == pytest.approx(30.0) and busy.value.retryable
    now[0] += 31
    assert pacer.reserve("C1") == 0.0


async def test_pacer_says_whether_the_slot_took_a_wait() -> None:
    """The relay looks for lines that queued behind a post only when its slot took a wait
    (``bot.batching.ready``)."""
    pacer = ChannelPacer(0.05)
    assert await pacer.ready("C1") is False
    assert await pacer.ready("C1") is True  # 50 ms after the first
    assert await pacer.ready("C2") is False


class _Response:
    def __init__(self, status: int, data: dict[str, Any], headers: dict[str, str]) -> None:
        self.status_code = status
        self.data = data
        self.headers = headers

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def _api_error(status: int, data: dict[str, Any], headers: dict[str, str]) -> SlackApiError:
    return SlackApiError("failed", _Response(status, data, headers))  # type: ignore[no-untyped-call]


def test_error_mapping() -> None:
    limited = errors.from_exception(
        "chat.postMessage",
        _api_error(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}),
    )
    assert (limited.retryable, limited.retry_after, limited.code) == (True, 7.0, "ratelimited")
    gone = errors.from_exception(
        "chat.postMessage", _api_error(200, {"ok": False, "error": "not_in_channel"}, {})
    )
    assert (gone.retryable, gone.code) == (False, "not_in_channel")
    assert errors.outcome_unknown(_api_error(503, {}, {}))
    assert not errors.outcome_unknown(_api_error(200, {"ok": False, "error": "x"}, {}))
    assert errors.outcome_unknown(TimeoutError())


def test_chat_ids_name_their_channel_outside_the_home_channel() -> None:
    """A ts is unique per channel only; the core keeps ids unique across channels."""
    ids = ChatIds("C0SUPPORT1")
    assert ids.of("C0SUPPORT1", ROOT_TS) == ROOT_TS  # as stored before several channels
    assert ids.of("C0SALES01", ROOT_TS) == f"C0SALES01:{ROOT_TS}"
    assert ids.locate(f"C0SALES01:{ROOT_TS}", "C0SUPPORT1") == Located("C0SALES01", ROOT_TS)
    # A plain ts is in the channel the call is scoped to: the conversation's recorded room
    # (the home channel when it was opened), else today's home channel.
    assert ids.locate(ROOT_TS, "C0SUPPORT1") == Located("C0SUPPORT1", ROOT_TS)
    assert ids.locate(ROOT_TS, "C0OLDHOME1") == Located("C0OLDHOME1", ROOT_TS)
    assert ChatIds("").of("C0SUPPORT1", ROOT_TS) == f"C0SUPPORT1:{ROOT_TS}"
