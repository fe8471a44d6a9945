"""The posts that show customers' files (``relay.media``), one per message.

A file is a post of its own beside the customer's line, and a platform names it only when
the upload returns: so it is recorded here, and everything that removes a customer's
posts (the retention purge, their delete of the message, erasure) finds it here. The row
goes with its message (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.ids import ChatMessageId
from bot.ports import PostRef
from bot.store.sql import Connection, Row, marks


class MediaPosts:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def record(
        self, message_id: int, chat_id: ChatMessageId, file_ref: str | None, *, posted_at: float
    ) -> None:
        """A retried job that found its upload done records the same post again. A message
        erased during the upload (erasure cancels the job, not the running upload) gets no
        record: its thread's removal takes the file along."""
        await self._conn.execute(
            "INSERT INTO media_posts (message_id, chat_id, file_ref, posted_at)"
            " SELECT id, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION)"
            " FROM messages WHERE id = ? ON CONFLICT (message_id) DO UPDATE"
            " SET chat_id = excluded.chat_id, file_ref = excluded.file_ref",
            (chat_id, file_ref, posted_at, message_id),
        )

    async def of(
        self, message_ids: Sequence[int], *, closed_before: float = -math.inf
    ) -> list[PostRef]:
        """The file posts of these messages, in the order they were posted. Not those of
        conversations closed before ``closed_before``: the retention purge removes their
        whole thread (``bot.retention``)."""
        if not message_ids:
            return []
        rows = await self._conn.fetchall(
            "SELECT p.chat_id, p.file_ref FROM media_posts p"
            " JOIN messages m ON m.id = p.message_id"
            " JOIN conversations c ON c.id = m.conversation_id"
            f" WHERE p.message_id IN ({marks(message_ids)})"
            " AND NOT (c.state = 'closed' AND c.closed_at < ?)"
            " ORDER BY p.posted_at, p.message_id",
            (*message_ids, closed_before),
        )
        return [_ref(row) for row in rows]

    async def forget(self, message_ids: Sequence[int]) -> None:
        """After their removal from the chat was queued."""
        if message_ids:
            await self._conn.execute(
                f"DELETE FROM media_posts WHERE message_id IN ({marks(message_ids)})",
                tuple(message_ids),
            )


def _ref(row: Row) -> PostRef:
    return PostRef(chat_id=ChatMessageId(str(row[0])), by_bot=True, file=row[1])
