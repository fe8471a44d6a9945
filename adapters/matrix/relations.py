"""Relations between events (``bot.mirror``): quote replies in a thread, reactions, and
agents' reactions and their removal (a redaction) as ``AgentReaction``s.

Pure functions over plain dicts, like ``content`` and ``events``: no I/O.
"""

from __future__ import annotations

from typing import Any

from adapters.matrix.content import ANNOTATION, THREAD, Content
from bot.ids import ChatMessageId, ThreadId
from bot.ports import AgentReaction

REACTION_EVENT = "m.reaction"
REDACTION_EVENT = "m.room.redaction"


def reply_in_thread(thread_id: ThreadId, text: str, reply_to: str) -> Content:
    """A thread message that answers ``reply_to``: a real quote reply, so the thread
    relation says it does not fall back (spec v1.4, threads with replies)."""
    return {
        "msgtype": "m.text",
        "body": text,
        "m.relates_to": {
            "rel_type": THREAD,
            "event_id": thread_id,
            "is_falling_back": False,
            "m.in_reply_to": {"event_id": reply_to},
        },
    }


def annotation(event_id: str, key: str) -> Content:
    """A reaction with any key (the customer's emoji)."""
    return {"m.relates_to": {"rel_type": ANNOTATION, "event_id": event_id, "key": key}}


def quoted_event(content: dict[str, Any]) -> ChatMessageId | None:
    """The event a thread message explicitly answers; None for the reply fallback that
    every threaded message carries (``is_falling_back`` true, or a reply outside a thread
    to the thread's root)."""
    relation = content.get("m.relates_to")
    if not isinstance(relation, dict):
        return None
    reply = relation.get("m.in_reply_to")
    target = reply.get("event_id") if isinstance(reply, dict) else None
    if not isinstance(target, str) or relation.get("is_falling_back", False) is not False:
        return None
    return ChatMessageId(target)


def to_agent_reaction(
    source: dict[str, Any], *, author_name: str, author_is_member: bool, own_user_id: str
) -> AgentReaction | None:
    """An ``m.reaction`` (added) or an ``m.room.redaction`` (possibly of a reaction: the
    relay knows which reactions it recorded) as an ``AgentReaction``; None otherwise."""
    event_id, sender = source.get("event_id"), source.get("sender")
    if not isinstance(event_id, str) or not isinstance(sender, str):
        return None
    content = source.get("content")
    content = content if isinstance(content, dict) else {}
    common: dict[str, Any] = {
        "author_id": sender,
        "author_name": author_name,
        "author_is_self": sender == own_user_id,
        "author_is_member": author_is_member,
    }
    if source.get("type") == REDACTION_EVENT:
        redacts = source.get("redacts") or content.get("redacts")  # room v11 moved it
        if not isinstance(redacts, str):
            return None
        return AgentReaction(
            reaction_id=redacts, target_id=None, emoji=None, name="", removed=True, **common
        )
    if source.get("type") != REACTION_EVENT:
        return None
    relation = content.get("m.relates_to")
    if not isinstance(relation, dict) or relation.get("rel_type") != ANNOTATION:
        return None
    target, key = relation.get("event_id"), relation.get("key")
    if not isinstance(target, str) or not isinstance(key, str):
        return None
    return AgentReaction(
        reaction_id=event_id,
        target_id=ChatMessageId(target),
        emoji=key,
        name=key,
        removed=False,
        **common,
    )
