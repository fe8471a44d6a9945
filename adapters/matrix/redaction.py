"""Redacting posts together with everything that hangs on them (retention purge, erasure).

A post's delivery mark (the bot's reaction), the bot's edits of a customer line and an
agent's edits of their reply are events of their own that relate to the post: redacting
the post alone leaves them readable, and an edit carries the whole new text. So a post's
relations are redacted first and the post after them. That order also makes a repeat
complete a run cut short: Synapse drops redacted events from the relations it lists, and
a post still there still lists what is left on it.

The bot redacts its own events at any power level, others' only with the room's
``redact`` level (``adapters.matrix.power``); what it may not redact stays and is counted.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.matrix import content
from adapters.matrix.api import Event, MatrixApi
from bot.ports import PostRef, Removal


class Redactor:
    """The bot's redactions in one room, each keyed (``txn_id``) by the caller's key and
    the event, so a retried job repeats its own redactions instead of adding new ones."""

    def __init__(
        self, client: MatrixApi, room_id: str, user_id: str, *, redacts_others: bool
    ) -> None:
        self._client = client
        self._room_id = room_id
        self._user_id = user_id
        self._redacts_others = redacts_others

    def may_redact(self, event: Event) -> bool:
        return event.get("sender") == self._user_id or self._redacts_others

    async def relations(self, event_id: str) -> list[Event]:
        """Every event relating to ``event_id`` (thread posts, edits, reactions), as sent."""
        return await self._client.relations(self._room_id, event_id)

    async def redact(self, event_id: str, *, key: str, reason: str | None = None) -> None:
        txn = content.txn_id("remove", f"{key}\x00{event_id}")
        await self._client.redact("redact", self._room_id, event_id, txn, reason=reason)

    async def clear(self, event_id: str, *, key: str, reason: str | None = None) -> None:
        """Redact what relates to ``event_id`` and the bot may redact; redacted already
        (no content left) counts as done."""
        for related in await self.relations(event_id):
            if related.get("content") and self.may_redact(related):
                await self.redact(str(related.get("event_id")), key=key, reason=reason)

    async def remove_posts(self, posts: Sequence[PostRef], *, key: str, reason: str) -> Removal:
        """Each post after what hangs on it. Whose a post is, is read from the homeserver
        (not taken from the caller); a post that is gone or redacted counts as removed."""
        removed = kept = 0
        for post in posts:
            event = await self._client.event(self._room_id, post.chat_id)
            await self.clear(post.chat_id, key=key, reason=reason)
            if event is None or not event.get("content"):
                removed += 1
            elif self.may_redact(event):
                await self.redact(post.chat_id, key=key, reason=reason)
                removed += 1
            else:
                kept += 1
        return Removal(removed=removed, kept=kept)

    async def own_messages(self, *, key: str) -> None:
        """Redact every message the bot sent in the room, newest first, page by page: for
        a small room (a direct room), where a retried job may have sent its text twice."""
        start: str | None = None
        while True:
            chunk, end = await self._client.messages(self._room_id, start=start, limit=100)
            for source in chunk:
                if (
                    source.get("type") == "m.room.message"
                    and source.get("sender") == self._user_id
                    and source.get("content")
                ):
                    await self.redact(str(source.get("event_id")), key=key)
            if not chunk or not end or end == start:
                return
            start = end
