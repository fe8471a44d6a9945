"""Event content the bot sends, built as plain dicts: no I/O, so every shape is unit-testable.

Everything here receives text that ``bot.render`` has already masked; this module only
arranges it into Matrix event content (threads per MSC3440 / spec v1.4, edits, reactions).
"""

from __future__ import annotations

import hashlib
import html
from typing import Any

from bot.domain import DeliveryStatus
from bot.ids import ThreadId
from bot.ports import ThreadRoot

Content = dict[str, Any]

THREAD = "m.thread"
REPLACE = "m.replace"
ANNOTATION = "m.annotation"
HTML_FORMAT = "org.matrix.custom.html"

STATUS_EMOJI: dict[DeliveryStatus, str] = {
    DeliveryStatus.QUEUED: "⏳",
    DeliveryStatus.SENT: "✓",
    DeliveryStatus.DELIVERED: "✓✓",
    DeliveryStatus.READ: "👁",
    DeliveryStatus.FAILED: "❌",
}


def txn_id(kind: str, key: str) -> str:
    """A transaction id the homeserver dedupes on: same job key, same event.

    Hashed so any key (colons, slashes, non-ASCII) is URL-safe and of bounded length; the
    ``kind`` keeps e.g. a post and an alert with the same key apart, which matters in encrypted
    rooms where every send goes to the same ``/send/m.room.encrypted/{txn}`` path.
    """
    digest = hashlib.sha256(f"{kind}\x00{key}".encode()).hexdigest()[:40]
    return f"empfang.{kind}.{digest}"


def root_content(root: ThreadRoot) -> Content:
    """The thread root: no relation at all, since a server refuses threads on related events.

    Title and lines only: ``bot.render`` already wrote the state (who handles it, closed) into
    the lines, in the configured language."""
    plain = [root.title, *root.lines]
    rich = [f"<b>{html.escape(root.title)}</b>", *(html.escape(line) for line in root.lines)]
    return {
        "msgtype": "m.text",
        "body": "\n".join(plain),
        "format": HTML_FORMAT,
        "formatted_body": "<br>".join(rich),
    }


def edit_content(original_id: str, new: Content) -> Content:
    """An ``m.replace`` edit; the top-level body is the fallback for clients without edits."""
    fallback = {key: value for key, value in new.items() if key != "m.relates_to"}
    fallback["body"] = f"* {new.get('body', '')}"
    if "formatted_body" in new:
        fallback["formatted_body"] = f"* {new['formatted_body']}"
    return {
        **fallback,
        "m.new_content": dict(new),
        "m.relates_to": {"rel_type": REPLACE, "event_id": original_id},
    }


def thread_message(thread_id: ThreadId, text: str, *, msgtype: str = "m.text") -> Content:
    """A message in a thread. The reply fallback points at the root, which is always valid
    (the latest event of the thread would need a lookup and change the content on retries)."""
    return {
        "msgtype": msgtype,
        "body": text,
        "m.relates_to": {
            "rel_type": THREAD,
            "event_id": thread_id,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": thread_id},
        },
    }


def room_message(text: str, *, msgtype: str = "m.text") -> Content:
    """A message outside any thread."""
    return {"msgtype": msgtype, "body": text}


def reaction(event_id: str, status: DeliveryStatus) -> Content:
    """The status mark on an agent's message."""
    return {
        "m.relates_to": {
            "rel_type": ANNOTATION,
            "event_id": event_id,
            "key": STATUS_EMOJI[status],
        }
    }
