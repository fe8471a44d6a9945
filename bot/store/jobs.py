"""SQL of the durable job queue; the policy (backoff, dead-letter) lives in ``bot.jobs``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: str
    """The payload as stored (JSON); ``bot.job_catalog`` reads it with the kind's model,
    so a row that does not parse is dead-lettered, not a crash of the worker leasing it."""
    order_key: str | None
    attempts: int
    lease_token: str | None
    created_at: float


@dataclass(frozen=True)
class JobInfo:
    """A job as the operator sees it: no payload (it may name a conversation's content)."""

    id: int
    kind: str
    state: str
    attempts: int
    created_at: float
    run_after: float
    lease_until: float | None
    last_error: str | None


_COLUMNS = "id, kind, payload, order_key, attempts, lease_token, created_at"


def _job(row: Any) -> Job:
    return Job(row[0], row[1], str(row[2]), row[3], row[4], row[5], row[6])


class Jobs:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.added = 0
        """Jobs this transaction made runnable; the store wakes the workers if any."""
        self.completed: list[int] = []
        """Jobs this transaction completed (a handler finishing its own job, see
        ``Store.completed``)."""

    async def enqueue(
        self,
        kind: str,
        payload: str,
        *,
        now: float,
        order_key: str | None = None,
        delay: float = 0.0,
    ) -> int:
        """Add a job inside the caller's transaction, so it exists iff its reason does.

        ``payload`` is JSON; code outside the store enqueues through ``bot.job_catalog``."""
        cur = await self._conn.execute(
            "INSERT INTO jobs (kind, payload, order_key, run_after, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (kind, payload, order_key, now + delay, now),
        )
        self.added += 1
        assert cur.lastrowid is not None
        return cur.lastrowid

    async def reschedule(self, order_key: str, payload: str, *, now: float, delay: float) -> bool:
        """Give the waiting job of ``order_key`` a new payload and due time; False if none
        waits. A timer per conversation is moved this way, not added per message, so the
        queue stays as long as the number of conversations, not of messages.

        A job a worker holds right now is left alone: its completion deletes it by its
        lease token, which would take the new due time with it."""
        cur = await self._conn.execute(
            "UPDATE jobs SET payload = ?, run_after = ?, attempts = 0, last_error = NULL,"
            " lease_until = NULL, lease_token = NULL"
            " WHERE order_key = ? AND state = 'pending'"
            " AND (lease_until IS NULL OR lease_until < ?)",
            (payload, now + delay, order_key, now),
        )
        return cur.rowcount > 0

    async def lease(self, *, now: float, until: float, token: str) -> Job | None:
        """Take the oldest due job whose conversation has no earlier unfinished job.

        A job with an expired lease counts as due again: that is how work of a crashed
        process is picked up. An earlier job of the same ``order_key`` that is still pending
        (leased, or waiting for its retry) blocks later ones, which keeps per-conversation order.
        One statement, so one hand-off to the database thread: every relayed message pays it.
        """
        rows = await self._conn.execute_fetchall(
            "UPDATE jobs SET lease_until = :until, lease_token = :token,"
            " attempts = attempts + 1"
            " WHERE id = (SELECT j.id FROM jobs j"
            "  WHERE j.state = 'pending' AND j.run_after <= :now"
            "  AND (j.lease_until IS NULL OR j.lease_until < :now)"
            "  AND (j.order_key IS NULL OR j.id = (SELECT min(k.id) FROM jobs k"
            "       WHERE k.order_key = j.order_key AND k.state = 'pending'))"
            "  ORDER BY j.run_after, j.id LIMIT 1)"
            f" RETURNING {_COLUMNS}",
            {"now": now, "until": until, "token": token},
        )
        return next((_job(row) for row in rows), None)

    async def get(self, job_id: int) -> Job | None:
        async with self._conn.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)
        ) as cur:
            row = await cur.fetchone()
        return _job(row) if row else None

    async def complete(self, job: Job) -> bool:
        """Remove a finished job; False if its lease was lost to another worker meanwhile.

        A handler may call it in its own last transaction, so that its result and the end
        of its job are one commit (the worker then skips its own)."""
        cur = await self._conn.execute(
            "DELETE FROM jobs WHERE id = ? AND lease_token IS ?", (job.id, job.lease_token)
        )
        if cur.rowcount == 1:
            self.completed.append(job.id)
        return cur.rowcount == 1

    async def retry_later(self, job: Job, *, run_after: float, error: str) -> None:
        await self._conn.execute(
            "UPDATE jobs SET run_after = ?, lease_until = NULL, lease_token = NULL,"
            " last_error = ? WHERE id = ? AND lease_token IS ?",
            (run_after, error, job.id, job.lease_token),
        )

    async def dead_letter(self, job: Job, *, error: str) -> None:
        await self._conn.execute(
            "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = ?"
            " WHERE id = ? AND lease_token IS ?",
            (error, job.id, job.lease_token),
        )

    async def next_due(self, now: float) -> float | None:
        """When the earliest pending job becomes due (lets idle workers sleep precisely):
        a waiting job at its ``run_after``, a leased one when its lease runs out.

        Both halves walk the ``jobs_due`` index from its start and stop early (a leased job
        was due when it was leased, so it lies before ``now``): the cost does not grow
        with the day-long timers that wait in the queue."""
        rows = await self._conn.execute_fetchall(
            "SELECT min(due) FROM ("
            " SELECT * FROM (SELECT run_after AS due FROM jobs"
            "  WHERE state = 'pending' AND lease_until IS NULL ORDER BY run_after LIMIT 1)"
            " UNION ALL SELECT min(lease_until) FROM jobs"
            "  WHERE state = 'pending' AND run_after <= :now AND lease_until IS NOT NULL)",
            {"now": now},
        )
        row = next(iter(rows), None)
        return float(row[0]) if row and row[0] is not None else None

    async def counts(self) -> dict[str, int]:
        async with self._conn.execute("SELECT state, count(*) FROM jobs GROUP BY state") as cur:
            return {str(state): int(n) async for state, n in cur}

    async def states(self, now: float) -> dict[str, int]:
        """Like :meth:`counts`, with jobs a worker is running now counted as ``leased``."""
        async with self._conn.execute(
            "SELECT CASE WHEN state = 'pending' AND lease_until >= ? THEN 'leased' ELSE state END,"
            " count(*) FROM jobs GROUP BY 1",
            (now,),
        ) as cur:
            return {str(state): int(n) async for state, n in cur}

    async def dead(self) -> list[tuple[Job, str]]:
        async with self._conn.execute(
            f"SELECT {_COLUMNS}, last_error FROM jobs WHERE state = 'dead' ORDER BY id"
        ) as cur:
            return [(_job(row), str(row[7])) async for row in cur]

    # -- for the operator (``empfang jobs``) ----------------------------------------------

    async def listing(
        self, *, state: str | None = None, kind: str | None = None, limit: int = 1000
    ) -> list[JobInfo]:
        """Jobs without their payloads, oldest first; ``state`` is pending or dead."""
        async with self._conn.execute(
            "SELECT id, kind, state, attempts, created_at, run_after, lease_until, last_error"
            " FROM jobs WHERE (:state IS NULL OR state = :state)"
            " AND (:kind IS NULL OR kind = :kind) ORDER BY id LIMIT :limit",
            {"state": state, "kind": kind, "limit": limit},
        ) as cur:
            return [JobInfo(*row) async for row in cur]

    async def revive(self, job_ids: Sequence[int] | None, *, now: float) -> list[int]:
        """Dead jobs back to pending, due now, with fresh attempts; ``None``: every dead job.

        Returns the ids revived; the others were not dead (or do not exist)."""
        where = "state = 'dead'"
        params: list[object] = [now]
        if job_ids is not None:
            where += f" AND id IN ({', '.join('?' for _ in job_ids)})"
            params.extend(job_ids)
        async with self._conn.execute(
            "UPDATE jobs SET state = 'pending', attempts = 0, run_after = ?,"
            f" lease_until = NULL, lease_token = NULL WHERE {where} RETURNING id",
            params,
        ) as cur:
            revived = sorted([int(row[0]) async for row in cur])
        self.added += len(revived)
        return revived

    async def set_payload(self, job_id: int, payload: str) -> None:
        """Replace a waiting job's payload (``empfang jobs retry`` renews case transfers; the
        relay hands a passed-over message to the job of the one it posted first)."""
        await self._conn.execute("UPDATE jobs SET payload = ? WHERE id = ?", (payload, job_id))

    async def remove(self, job_id: int, *, now: float) -> JobInfo | None:
        """Delete a job that no worker holds right now; returns what it was, or None if it
        does not exist or is leased (running)."""
        async with self._conn.execute(
            "DELETE FROM jobs WHERE id = ? AND (lease_until IS NULL OR lease_until < ?)"
            " RETURNING id, kind, state, attempts, created_at, run_after, lease_until,"
            " last_error",
            (job_id, now),
        ) as cur:
            row = await cur.fetchone()
        return JobInfo(*row) if row else None

    async def depths(self) -> list[tuple[str, str, int]]:
        """(kind, state, count) for every kind with jobs."""
        async with self._conn.execute(
            "SELECT kind, state, count(*) FROM jobs GROUP BY kind, state ORDER BY kind, state"
        ) as cur:
            return [(str(kind), str(state), int(n)) async for kind, state, n in cur]

    async def oldest_pending(self) -> float | None:
        """When the oldest pending job was enqueued (a stuck queue shows here first)."""
        async with self._conn.execute(
            "SELECT min(created_at) FROM jobs WHERE state = 'pending'"
        ) as cur:
            row = await cur.fetchone()
        return float(row[0]) if row and row[0] is not None else None
