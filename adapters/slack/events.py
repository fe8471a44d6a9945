"""Slack events → ``AgentMessage`` / ``AgentAction``: what agents did, in the relay's terms.

The parsing is pure (dicts in, dataclasses out); only display names and, for button
presses, channel membership need Slack, through caches. The relay decides what a message
means and who may act; this module only says who wrote or pressed what, where (the
channel and thread: a thread ``ts`` is unique only within its channel), whether they are
in that channel, and whether it was an edit.
"""

from __future__ import annotations

import html
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from adapters.slack.attachments import agent_files
from adapters.slack.blocks import ACTIONS
from adapters.slack.chat_ids import ChatIds
from bot.ids import ChatMessageId, ThreadId
from bot.ports import AgentAction, AgentFile, AgentMessage

log = logging.getLogger("empfang.slack")

RELAYED_SUBTYPES = frozenset({None, "bot_message", "thread_broadcast", "file_share"})
"""Plain messages, classic bot posts (flagged as bots), replies also sent to the channel,
and files shared with a comment (``adapters.slack.attachments``)."""

EDIT_SUBTYPE = "message_changed"
_MARKUP = re.compile(r"<([^<>]*)>")


@dataclass(frozen=True)
class Identity:
    """The bot's own ids (from ``auth.test``) and the channels it serves."""

    user_id: str
    bot_id: str
    channels: frozenset[str]


@dataclass(frozen=True)
class ParsedMessage:
    """A message event without the author's display name (that needs a lookup)."""

    channel_id: str
    chat_id: ChatMessageId
    thread_id: ThreadId | None
    author_id: str
    raw_text: str
    author_is_bot: bool
    author_is_self: bool
    edit_of: ChatMessageId | None = None
    files: tuple[AgentFile, ...] = ()

    def mentioned_users(self) -> list[str]:
        return [m[1:].split("|")[0] for m in _MARKUP.findall(self.raw_text) if m.startswith("@")]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _thread_of(message: dict[str, Any]) -> ThreadId | None:
    """A reply has ``thread_ts`` different from its own ``ts``; a root has neither."""
    ts, thread_ts = _str(message.get("ts")), _str(message.get("thread_ts"))
    return ThreadId(thread_ts) if thread_ts and thread_ts != ts else None


def parse_message(event: dict[str, Any], me: Identity) -> ParsedMessage | None:
    """Translate one ``message`` event; None for anything that is not a relayable message
    in one of the bot's channels (joins, deletions, files, other channels, unchanged
    "edits")."""
    if event.get("type") != "message" or event.get("channel") not in me.channels:
        return None
    subtype = event.get("subtype")
    if subtype == EDIT_SUBTYPE:
        return _parse_edit(event, me)
    if subtype not in RELAYED_SUBTYPES:
        return None
    ts = _str(event.get("ts"))
    if ts is None:
        return None
    parsed = _build(
        event,
        me,
        channel_id=str(event["channel"]),
        chat_id=ChatMessageId(ts),
        thread_id=_thread_of(event),
    )
    if subtype == "file_share" and not parsed.files:
        return None  # a file_share without files: its comment alone would mislead
    return parsed


def _parse_edit(event: dict[str, Any], me: Identity) -> ParsedMessage | None:
    new, old = event.get("message"), event.get("previous_message")
    if not isinstance(new, dict):
        return None
    if isinstance(old, dict) and old.get("text") == new.get("text"):
        return None  # reply counts, unfurls, our own root updates: not an edit of the text
    ts = _str(new.get("ts"))
    if ts is None or new.get("subtype") not in RELAYED_SUBTYPES:
        return None
    chat_id = ChatMessageId(_str(event.get("ts")) or ts)
    return _build(
        new,
        me,
        channel_id=str(event["channel"]),
        chat_id=chat_id,
        thread_id=_thread_of(new),
        edit=ChatMessageId(ts),
    )


def _build(
    message: dict[str, Any],
    me: Identity,
    *,
    channel_id: str,
    chat_id: ChatMessageId,
    thread_id: ThreadId | None,
    edit: ChatMessageId | None = None,
) -> ParsedMessage:
    user, bot_id = _str(message.get("user")), _str(message.get("bot_id"))
    return ParsedMessage(
        channel_id=channel_id,
        chat_id=chat_id,
        thread_id=thread_id,
        author_id=user or bot_id or "unknown",
        raw_text=_str(message.get("text")) or "",
        author_is_bot=bot_id is not None or message.get("subtype") == "bot_message",
        author_is_self=(user is not None and user == me.user_id) or bot_id == me.bot_id,
        edit_of=edit,
        files=agent_files(message) if edit is None else (),
    )


def plain_text(text: str, names: dict[str, str]) -> str:
    """Slack markup as the customer should read it: ``<@U1>`` → ``@Name``, ``<url|label>``
    → ``label (url)``, ``<#C1|name>`` → ``#name``, ``<!here>`` → ``@here``, entities decoded."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return "@" + (names.get(target[1:]) or label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            special = target[1:].split("^")[0]
            return "@" + (label.lstrip("@") or special)
        if target.startswith("mailto:"):
            return label or target.removeprefix("mailto:")
        if label and label != target:
            return f"{label} ({target})"
        return target

    return html.unescape(_MARKUP.sub(replace, text))


@dataclass(frozen=True)
class ParsedAction:
    """A Claim/Close press on one of our roots, in the root's channel."""

    action: str
    channel_id: str
    thread_id: ThreadId
    user_id: str


def parse_action(body: dict[str, Any], me: Identity) -> ParsedAction | None:
    """The press, None for anything else (other buttons, other channels)."""
    if body.get("type") != "block_actions":
        return None
    actions, container, user = body.get("actions"), body.get("container"), body.get("user")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return None
    if not isinstance(container, dict) or not isinstance(user, dict):
        return None
    action_id = actions[0].get("action_id")
    thread_id, channel = _str(container.get("message_ts")), container.get("channel_id")
    user_id = _str(user.get("id"))
    if action_id not in ACTIONS or channel not in me.channels or not thread_id or not user_id:
        return None
    return ParsedAction(str(action_id), str(channel), ThreadId(thread_id), user_id)


UserLookup = Callable[[str], Awaitable[dict[str, Any] | None]]


def display_name(user: dict[str, Any]) -> str | None:
    """``profile.display_name`` if set, else the real name, else the handle."""
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    for value in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class Directory:
    """Display names by user id via ``users.info``, cached (LRU, ``ttl`` seconds).

    A failed lookup falls back to the user id and is not cached, so a Slack hiccup never
    blocks an agent's reply.
    """

    def __init__(
        self,
        lookup: UserLookup,
        *,
        ttl: float = 3600.0,
        capacity: int = 5000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._capacity = capacity
        self._clock = clock
        self._names: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def name(self, user_id: str) -> str:
        cached = self._names.get(user_id)
        if cached is not None and cached[0] > self._clock():
            self._names.move_to_end(user_id)
            return cached[1]
        user = await self._lookup(user_id)
        found = display_name(user) if user else None
        if found is None:
            return user_id
        self._names[user_id] = (self._clock() + self._ttl, found)
        self._names.move_to_end(user_id)
        while len(self._names) > self._capacity:
            self._names.popitem(last=False)
        return found


async def to_agent_message(
    parsed: ParsedMessage, directory: Directory, ids: ChatIds
) -> AgentMessage:
    """Resolve the author's and mentioned users' names; bots keep their id as name. The
    author is a member: Slack lets only members post in a channel (buttons differ). Ids
    become the core's (``chat_ids``)."""
    channel = parsed.channel_id
    names = {uid: await directory.name(uid) for uid in parsed.mentioned_users()}
    author = parsed.author_id
    bot = parsed.author_is_bot
    return AgentMessage(
        room_id=channel,
        chat_id=ChatMessageId(ids.of(channel, parsed.chat_id)),
        thread_id=ThreadId(ids.of(channel, parsed.thread_id)) if parsed.thread_id else None,
        author_id=author,
        author_name=author if bot else await directory.name(author),
        text=plain_text(parsed.raw_text, names),
        author_is_bot=bot,
        author_is_self=parsed.author_is_self,
        author_is_member=True,
        edit_of=ChatMessageId(ids.of(channel, parsed.edit_of)) if parsed.edit_of else None,
        files=parsed.files,
    )


MemberLookup = Callable[[str, str], Awaitable[bool]]
"""Whether a user (second) is in a channel (first) (``members.ChannelMembers.contains``)."""


async def to_agent_action(
    pressed: ParsedAction, directory: Directory, is_member: MemberLookup, ids: ChatIds
) -> AgentAction:
    """A press from anyone who can see the channel: public channels show their buttons to
    users who never joined, so membership of the root's channel is looked up."""
    user_id = pressed.user_id
    return AgentAction(
        room_id=pressed.channel_id,
        action=pressed.action,
        thread_id=ThreadId(ids.of(pressed.channel_id, pressed.thread_id)),
        author_id=user_id,
        author_name=await directory.name(user_id),
        author_is_member=await is_member(pressed.channel_id, user_id),
    )
