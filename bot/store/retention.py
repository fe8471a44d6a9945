"""What the retention purge reads and deletes (``bot.retention`` drives it batch by batch).

Every statement is bounded by ``limit`` and keyed by the primary key, so one batch is one
short transaction whatever the size of the store, and intake's writes interleave with a
long purge. Nothing that a legal hold covers, and nothing that a queued or dead-lettered
job still refers to, is touched: a job must never find its message or conversation gone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.ids import ChatMessageId, StatusRef
from bot.ports import PostRef
from bot.store.sql import Connection, Dialect, marks

_NOT_HELD = "NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.conversation_id = {conv})"


def _no_job(dialect: Dialect, field: str, value: str) -> str:
    """No job (pending or dead) names ``value`` as its payload's ``field``. Uncorrelated,
    so the database reads the queue once per statement, not once per candidate row: during
    an outage the queue can hold thousands of jobs."""
    named = dialect.json_int("j.payload", field)
    return f"{value} NOT IN (SELECT {named} FROM jobs j WHERE {named} IS NOT NULL)"


@dataclass(frozen=True)
class DueConversation:
    id: int
    contact_id: int
    last_activity: float
    thread_id: str | None


@dataclass(frozen=True)
class RunRow:
    id: int
    scheduled_for: float
    started_at: float
    step: int
    phase: str
    cursor: int
    counts: dict[str, int]
    finished_at: float | None


class RetentionStore:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._dialect = conn.dialect

    # -- runs -----------------------------------------------------------------------------------

    async def run(self, scheduled_for: float, *, now: float) -> RunRow:
        """The run scheduled for that time, created (at step 0, starting ``now``) if new."""
        await self._conn.execute(
            "INSERT INTO retention_runs (scheduled_for, started_at) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            (scheduled_for, now),
        )
        row = await self._conn.fetchone(
            "SELECT id, scheduled_for, started_at, step, phase, cursor, counts, finished_at"
            " FROM retention_runs WHERE scheduled_for = ?",
            (scheduled_for,),
        )
        assert row is not None
        return RunRow(
            int(row[0]),
            float(row[1]),
            float(row[2]),
            int(row[3]),
            str(row[4]),
            int(row[5]),
            json.loads(row[6]),
            row[7],
        )

    async def unfinished(self) -> tuple[float, int] | None:
        """(scheduled_for, step) of a run that has not finished, if any."""
        row = await self._conn.fetchone(
            "SELECT scheduled_for, step FROM retention_runs WHERE finished_at IS NULL"
            " ORDER BY id LIMIT 1"
        )
        return (float(row[0]), int(row[1])) if row else None

    async def save(self, run: RunRow) -> None:
        await self._conn.execute(
            "UPDATE retention_runs SET step = ?, phase = ?, cursor = ?, counts = ?,"
            " finished_at = ? WHERE id = ?",
            (
                run.step,
                run.phase,
                run.cursor,
                json.dumps(run.counts, sort_keys=True),
                run.finished_at,
                run.id,
            ),
        )

    # -- message bodies -------------------------------------------------------------------------

    async def blank_bodies(self, *, after: int, before: float, limit: int) -> tuple[list[int], int]:
        """Remove the bodies of up to ``limit`` messages written before ``before``, from id
        ``after`` on; (their ids, the last id looked at, or ``after`` when none was due)."""
        return await self._blank(
            "m.body IS NOT NULL", "body = NULL", after=after, before=before, limit=limit
        )

    async def blank_media(self, *, after: int, before: float, limit: int) -> tuple[list[int], int]:
        """Drop the media reference (WhatsApp's media id, download URL, digest) of up to
        ``limit`` messages, as :meth:`blank_bodies` does with bodies. The file's name and
        caption are the body's and stay until ``messages``; the id becomes empty, so
        nothing can fetch the file again. Customers' messages only: their bodies are JSON
        (``stored_body``), an agent's is the plain text (the ``CASE`` keeps SQLite from
        parsing it)."""
        media_id = self._dialect.json_text("m.body", "media.media_id")
        return await self._blank(
            f"CASE WHEN m.direction = 'in' THEN {media_id} END != ''",
            f"body = {self._dialect.without_media_ref('body')}",
            after=after,
            before=before,
            limit=limit,
        )

    async def _blank(
        self, due: str, update: str, *, after: int, before: float, limit: int
    ) -> tuple[list[int], int]:
        ids = await self._ids(
            f"SELECT m.id FROM messages m WHERE m.id > ? AND m.created_at < ? AND {due}"
            f" AND {_NOT_HELD.format(conv='m.conversation_id')}"
            f" AND {_no_job(self._dialect, 'message_id', 'm.id')}"
            " ORDER BY m.id LIMIT ?",
            (after, before, limit),
        )
        if ids:
            await self._conn.execute(
                f"UPDATE messages SET {update} WHERE id IN ({marks(ids)})", ids
            )
        return ids, (ids[-1] if ids else after)

    async def posts_of_blanked(self, ids: list[int], *, closed_before: float) -> list[PostRef]:
        """The chat posts that carried the bodies of ``ids`` (just blanked) and now carry
        nothing the store still holds. A post combining several customer messages
        (``bot.batching``: the first holds the post's id, the others ``<id>#<n>``) goes
        once the last of them was blanked, so the newest of them decides. A customer's
        reaction, edit or delete made no post of its own (``bot.mirror``: ``<post>~…``), so
        it has none to remove here. Not those of conversations closed before
        ``closed_before``: their whole thread goes with them (one removal instead of one per
        post, which matters for a first purge of years)."""
        if not ids:
            return []
        found = await self._conn.fetchall(
            "SELECT m.chat_id, m.direction, m.status_chat_id,"
            " (SELECT s.ref FROM shown_reactions s WHERE s.message_id = m.id)"
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            f" WHERE m.id IN ({marks(ids)}) AND m.chat_id IS NOT NULL"
            " AND c.thread_id IS NOT NULL AND m.chat_id NOT LIKE '%~%'"
            " AND NOT (c.state = 'closed' AND c.closed_at < ?) ORDER BY m.id",
            (*ids, closed_before),
        )
        rows = [(str(row[0]), str(row[1]), row[2:]) for row in found]
        posts: dict[str, PostRef] = {}
        for chat_id, direction, shown in rows:
            post = chat_id.partition("#")[0]
            if post in posts or await self._carries_a_body(post):
                continue
            posts[post] = PostRef(
                chat_id=ChatMessageId(post),
                by_bot=direction == "in",
                marks=tuple(StatusRef(str(mark)) for mark in shown if mark),
            )
        return list(posts.values())

    async def _carries_a_body(self, post: str) -> bool:
        """Whether a message shown by ``post`` still has its body. The range reads the
        ``<post>#<n>`` ids off the unique index on ``chat_id``."""
        return (
            await self._conn.fetchone(
                "SELECT 1 FROM messages WHERE (chat_id = ? OR (chat_id >= ? AND chat_id < ?))"
                " AND body IS NOT NULL LIMIT 1",
                (post, f"{post}#", f"{post}$"),
            )
            is not None
        )

    # -- closed conversations -------------------------------------------------------------------

    async def due_conversation(self, *, closed_before: float) -> DueConversation | None:
        """The oldest conversation due, or None."""
        row = await self._conn.fetchone(
            "SELECT c.id, c.contact_id,"
            f" {self._dialect.greatest('c.closed_at', 'coalesce(c.last_customer_at, 0)')},"
            " c.thread_id"
            " FROM conversations c WHERE c.state = 'closed' AND c.closed_at < ?"
            f" AND {_NOT_HELD.format(conv='c.id')}"
            f" AND {_no_job(self._dialect, 'conversation_id', 'c.id')}"
            f" AND {_no_job(self._dialect, 'contact_id', 'c.contact_id')}"
            " ORDER BY c.id LIMIT 1",
            (closed_before,),
        )
        if row is None:
            return None
        return DueConversation(int(row[0]), int(row[1]), float(row[2]), row[3])

    async def delete_messages_of(self, conversation_id: int, *, limit: int) -> int:
        """Up to ``limit`` of the conversation's messages, with their delivery receipts."""
        ids = await self._ids(
            "SELECT id FROM messages WHERE conversation_id = ? ORDER BY id LIMIT ?",
            (conversation_id, limit),
        )
        if ids:
            await self._conn.execute(
                "DELETE FROM status_events WHERE provider_id IN"
                f" (SELECT provider_id FROM messages WHERE id IN ({marks(ids)}))",
                ids,
            )
            await self._conn.execute(f"DELETE FROM messages WHERE id IN ({marks(ids)})", ids)
        return len(ids)

    async def delete_conversation(self, conversation_id: int, contact_id: int, last: float) -> None:
        """The (emptied) conversation; its contact remembers when it was last active."""
        await self._conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        await self._conn.execute(
            "UPDATE contacts SET last_activity_at ="
            f" {self._dialect.greatest('coalesce(last_activity_at, 0)', '?')} WHERE id = ?",
            (last, contact_id),
        )

    # -- inactive contacts ----------------------------------------------------------------------

    async def delete_inactive_contacts(self, *, inactive_since: float, limit: int) -> int:
        """Contacts with nothing left in the store and no activity since ``inactive_since``."""
        ids = await self._ids(
            "SELECT k.id FROM contacts k"
            " WHERE coalesce(k.last_activity_at, k.created_at) < ?"
            " AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.contact_id = k.id)"
            " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.contact_id = k.id)"
            f" AND {_no_job(self._dialect, 'contact_id', 'k.id')}"
            " ORDER BY k.id LIMIT ?",
            (inactive_since, limit),
        )
        if ids:
            await self._conn.execute(f"DELETE FROM contacts WHERE id IN ({marks(ids)})", ids)
        return len(ids)

    async def held(self) -> int:
        row = await self._conn.fetchone("SELECT count(*) FROM legal_holds")
        return int(row[0]) if row else 0

    async def _ids(self, sql: str, args: tuple[Any, ...]) -> list[int]:
        rows = await self._conn.fetchall(sql, args)
        return [int(row[0]) for row in rows]
