"""Read-only look at what waits in the job queue behind a job (for ``bot.batching``).

Kept apart from ``jobs.py`` (the queue's own SQL) because it serves one use case: finding
the customer messages queued right behind the one being posted, so they can share a post.
"""

from __future__ import annotations

from bot.store.sql import Connection


class QueueView:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def waiting_behind(
        self, order_key: str, job_id: int, kind: str, *, limit: int
    ) -> list[int]:
        """``message_id`` payloads of the pending jobs of ``kind`` directly behind ``job_id``
        in its order, oldest first; stops at the first job of another kind, which must keep
        its place (a notice, a root update, a status)."""
        return [message for _, message in await self.jobs_behind(order_key, job_id, kind, limit)]

    async def jobs_behind(
        self, order_key: str, job_id: int, kind: str, limit: int
    ) -> list[tuple[int, int]]:
        """Like :meth:`waiting_behind`, as ``(job id, message id)`` pairs."""
        found: list[tuple[int, int]] = []
        rows = await self._conn.fetchall(
            "SELECT id, kind, CASE WHEN json_valid(payload)"
            f" THEN {self._conn.dialect.json_int('payload', 'message_id')} END"
            " FROM jobs WHERE order_key = ? AND state = 'pending' AND id > ?"
            " ORDER BY id LIMIT ?",
            (order_key, job_id, limit),
        )  # one hand-off to the database thread (every relayed message asks)
        for queued_job, job_kind, message_id in rows:
            if job_kind != kind or not isinstance(message_id, int):
                break
            found.append((queued_job, message_id))
        return found
