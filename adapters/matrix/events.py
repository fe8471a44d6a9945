"""Room events → ``AgentMessage``: pure functions over the event's JSON as the homeserver
sent it (with E2EE: its decrypted cleartext).

The raw dict keeps the relation fields (threads, edits, reply fallbacks) in view: matrix-nio's
event classes parse an edit as an ordinary message whose body is ``"* new text"`` and do not
model threads at all.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from adapters.matrix.attachments import agent_file
from adapters.matrix.relations import quoted_event
from bot.ids import ChatMessageId, ThreadId
from bot.ports import AgentMessage

THREAD_REL_TYPES = frozenset({"m.thread", "io.element.thread"})
REPLACE = "m.replace"
DELIVERED_MSGTYPES = frozenset({"m.text", "m.notice"})
"""``m.emote`` is left out on purpose: "/me is off for lunch" describes the agent to the room;
relaying it to a customer as a reply would be a surprise. Files (``m.image``, ``m.file``, …)
are read by ``adapters.matrix.attachments``."""

BOT_MSGTYPE = "m.notice"
"""By convention bots post notices (and must not react to them), so a notice counts as bot
output whoever sent it; bridges and integrations follow this."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def relation(content: dict[str, Any]) -> dict[str, Any]:
    return _dict(content.get("m.relates_to"))


def thread_root(content: dict[str, Any]) -> ThreadId | None:
    """The thread an event belongs to, from its own relation (threads are stable MSC3440 or
    Element's pre-stable ``io.element.thread``)."""
    rel = relation(content)
    root = rel.get("event_id")
    if rel.get("rel_type") in THREAD_REL_TYPES and isinstance(root, str):
        return ThreadId(root)
    return None


def edit_target(content: dict[str, Any]) -> ChatMessageId | None:
    """The event an ``m.replace`` edit replaces."""
    rel = relation(content)
    target = rel.get("event_id")
    if rel.get("rel_type") == REPLACE and isinstance(target, str):
        return ChatMessageId(target)
    return None


def strip_reply_fallback(body: str) -> str:
    """Drop the ``> <@user> quoted text`` block older clients put before a reply's text.

    Only the leading quote block and the blank line after it go; a quote further down is the
    agent's own text and stays.
    """
    lines = body.split("\n")
    if not lines or not lines[0].startswith(">"):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    if index < len(lines) and lines[index] == "":
        index += 1
    return "\n".join(lines[index:])


def message_text(content: dict[str, Any]) -> tuple[str, str] | None:
    """``(msgtype, text)`` of a message or of an edit's new content; None when not relayed."""
    source = content
    if edit_target(content) is not None:
        source = _dict(content.get("m.new_content"))
    msgtype = source.get("msgtype")
    body = source.get("body")
    if msgtype not in DELIVERED_MSGTYPES or not isinstance(body, str):
        return None
    if source is content and "m.in_reply_to" in relation(content):
        body = strip_reply_fallback(body)
    return msgtype, body


def to_agent_message(
    source: dict[str, Any],
    *,
    own_user_id: str,
    bot_users: frozenset[str],
    author_name: str,
    author_is_member: bool,
    edit_thread: ThreadId | None = None,
) -> AgentMessage | None:
    """Translate one timeline event; None for anything that is not an agent-visible message.

    ``edit_thread`` is the thread of the original event for edits (an edit does not carry it).
    """
    if source.get("type") != "m.room.message":
        return None
    content = _dict(source.get("content"))
    parsed = message_text(content)
    attached = agent_file(content) if edit_target(content) is None else None
    if attached is not None:
        parsed = (str(content.get("msgtype")), attached[1])
    event_id, sender = source.get("event_id"), source.get("sender")
    if parsed is None or not isinstance(event_id, str) or not isinstance(sender, str):
        return None
    msgtype, text = parsed
    edit_of = edit_target(content)
    return AgentMessage(
        chat_id=ChatMessageId(event_id),
        thread_id=edit_thread if edit_of else thread_root(content),
        author_id=sender,
        author_name=author_name,
        text=text,
        author_is_bot=msgtype == BOT_MSGTYPE or sender in bot_users,
        author_is_self=sender == own_user_id,
        author_is_member=author_is_member,
        edit_of=edit_of,
        reply_to=None if edit_of else quoted_event(content),
        files=(attached[0],) if attached is not None else (),
    )


class ThreadIndex:
    """Which thread recent events belong to, so edits can be placed in their thread.

    Bounded (LRU): after a restart or for very old messages the caller asks the homeserver.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._threads: OrderedDict[str, ThreadId | None] = OrderedDict()

    def remember(self, event_id: str, thread_id: ThreadId | None) -> None:
        self._threads[event_id] = thread_id
        self._threads.move_to_end(event_id)
        while len(self._threads) > self._capacity:
            self._threads.popitem(last=False)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._threads

    def get(self, event_id: str) -> ThreadId | None:
        return self._threads.get(event_id)
