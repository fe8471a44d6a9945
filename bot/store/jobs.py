"""SQL of the durable job queue; the policy (backoff, dead-letter) lives in ``bot.jobs``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.store.sql import Connection, marks


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
    def __init__(self, conn: Connection) -> None:
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
        if order_key is not None and self._conn.dialect.order_lock:
            await self._conn.execute(self._conn.dialect.order_lock, (order_key,))
        job_id = await self._conn.insert(
            "INSERT INTO jobs (kind, payload, order_key, run_after, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (kind, payload, order_key, now + delay, now),
        )
        self.added += 1
        assert job_id is not None
        return job_id

    async def reschedule(self, order_key: str, payload: str, *, now: float, delay: float) -> bool:
        """Give the waiting job of ``order_key`` a new payload and due time; False if none
        waits. A timer per conversation is moved this way, not added per message, so the
        queue stays as long as the number of conversations, not of messages.

        A job a worker holds right now is left alone: its completion deletes it by its
        lease token, which would take the new due time with it."""
        changed = await self._conn.execute(
            "UPDATE jobs SET payload = ?, run_after = ?, attempts = 0, last_error = NULL,"
            " lease_until = NULL, lease_token = NULL"
            " WHERE order_key = ? AND state = 'pending'"
            " AND (lease_until IS NULL OR lease_until < ?)",
            (payload, now + delay, order_key, now),
        )
        return changed > 0

    async def lease(self, *, now: float, until: float, token: str) -> Job | None:
        """Take the oldest due job whose conversation has no earlier unfinished job.

        A job with an expired lease counts as due again: that is how work of a crashed
        process is picked up. An earlier job of the same ``order_key`` that is still pending
        (leased, or waiting for its retry) blocks later ones, which keeps per-conversation order.
        One statement, so one hand-off to the database thread: every relayed message pays it.

        Several processes on one PostgreSQL database lease safely: the candidate row is
        locked and others skip it (``Dialect.skip_locked``), and the order check reads the
        pending jobs, leased or not, so a customer's next job waits for the one another
        process holds.
        """
        row = await self._conn.fetchone(
            "UPDATE jobs SET lease_until = ?, lease_token = ?, attempts = attempts + 1"
            " WHERE id = (SELECT j.id FROM jobs j"
            "  WHERE j.state = 'pending' AND j.run_after <= ?"
            "  AND (j.lease_until IS NULL OR j.lease_until < ?)"
            "  AND (j.order_key IS NULL OR j.id = (SELECT min(k.id) FROM jobs k"
            "       WHERE k.order_key = j.order_key AND k.state = 'pending'))"
            f"  ORDER BY j.run_after, j.id LIMIT 1{self._conn.dialect.skip_locked})"
            f" RETURNING {_COLUMNS}",
            (until, token, now, now),
        )
        return _job(row) if row else None

    async def get(self, job_id: int) -> Job | None:
        row = await self._conn.fetchone(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return _job(row) if row else None

    async def complete(self, job: Job) -> bool:
        """Remove a finished job; False if its lease was lost to another worker meanwhile.

        A handler may call it in its own last transaction, so that its result and the end
        of its job are one commit (the worker then skips its own)."""
        deleted = await self._conn.execute(
            "DELETE FROM jobs WHERE id = ? AND lease_token IS NOT DISTINCT FROM ?",
            (job.id, job.lease_token),
        )
        if deleted == 1:
            self.completed.append(job.id)
        return deleted == 1

    async def retry_later(self, job: Job, *, run_after: float, error: str) -> None:
        await self._conn.execute(
            "UPDATE jobs SET run_after = ?, lease_until = NULL, lease_token = NULL,"
            " last_error = ? WHERE id = ? AND lease_token IS NOT DISTINCT FROM ?",
            (run_after, error, job.id, job.lease_token),
        )

    async def dead_letter(self, job: Job, *, error: str) -> None:
        await self._conn.execute(
            "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = ?"
            " WHERE id = ? AND lease_token IS NOT DISTINCT FROM ?",
            (error, job.id, job.lease_token),
        )

    async def next_due(self, now: float) -> float | None:
        """When the earliest pending job becomes due (lets idle workers sleep precisely):
        a waiting job at its ``run_after``, a leased one when its lease runs out.

        Both halves walk the ``jobs_due`` index from its start and stop early (a leased job
        was due when it was leased, so it lies before ``now``): the cost does not grow
        with the day-long timers that wait in the queue."""
        due = await self._conn.fetchval(
            "SELECT min(due) FROM ("
            " SELECT * FROM (SELECT run_after AS due FROM jobs"
            "  WHERE state = 'pending' AND lease_until IS NULL ORDER BY run_after LIMIT 1) w"
            " UNION ALL SELECT min(lease_until) FROM jobs"
            "  WHERE state = 'pending' AND run_after <= ? AND lease_until IS NOT NULL) d",
            (now,),
        )
        return float(due) if due is not None else None

    async def counts(self) -> dict[str, int]:
        rows = await self._conn.fetchall("SELECT state, count(*) FROM jobs GROUP BY state")
        return {str(state): int(n) for state, n in rows}

    async def states(self, now: float) -> dict[str, int]:
        """Like :meth:`counts`, with jobs a worker is running now counted as ``leased``."""
        rows = await self._conn.fetchall(
            "SELECT CASE WHEN state = 'pending' AND lease_until >= ? THEN 'leased' ELSE state END,"
            " count(*) FROM jobs GROUP BY 1",
            (now,),
        )
        return {str(state): int(n) for state, n in rows}

    async def dead(self) -> list[tuple[Job, str]]:
        rows = await self._conn.fetchall(
            f"SELECT {_COLUMNS}, last_error FROM jobs WHERE state = 'dead' ORDER BY id"
        )
        return [(_job(row), str(row[7])) for row in rows]

    # -- for the operator (``empfang jobs``) ----------------------------------------------

    async def listing(
        self, *, state: str | None = None, kind: str | None = None, limit: int = 1000
    ) -> list[JobInfo]:
        """Jobs without their payloads, oldest first; ``state`` is pending or dead."""
        where, args = ["TRUE"], []
        for column, value in (("state", state), ("kind", kind)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        rows = await self._conn.fetchall(
            "SELECT id, kind, state, attempts, created_at, run_after, lease_until, last_error"
            f" FROM jobs WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
            (*args, limit),
        )
        return [JobInfo(*row) for row in rows]

    async def revive(self, job_ids: Sequence[int] | None, *, now: float) -> list[int]:
        """Dead jobs back to pending, due now, with fresh attempts; ``None``: every dead job.

        Returns the ids revived; the others were not dead (or do not exist)."""
        where = "state = 'dead'"
        params: list[object] = [now]
        if job_ids is not None:
            where += f" AND id IN ({marks(job_ids)})"
            params.extend(job_ids)
        rows = await self._conn.fetchall(
            "UPDATE jobs SET state = 'pending', attempts = 0, run_after = ?,"
            f" lease_until = NULL, lease_token = NULL WHERE {where} RETURNING id",
            params,
        )
        revived = sorted(int(row[0]) for row in rows)
        self.added += len(revived)
        return revived

    async def set_payload(self, job_id: int, payload: str) -> None:
        """Replace a waiting job's payload (``empfang jobs retry`` renews case transfers; the
        relay hands a passed-over message to the job of the one it posted first)."""
        await self._conn.execute("UPDATE jobs SET payload = ? WHERE id = ?", (payload, job_id))

    async def remove(self, job_id: int, *, now: float) -> JobInfo | None:
        """Delete a job that no worker holds right now; returns what it was, or None if it
        does not exist or is leased (running)."""
        row = await self._conn.fetchone(
            "DELETE FROM jobs WHERE id = ? AND (lease_until IS NULL OR lease_until < ?)"
            " RETURNING id, kind, state, attempts, created_at, run_after, lease_until,"
            " last_error",
            (job_id, now),
        )
        return JobInfo(*row) if row else None

    async def depths(self) -> list[tuple[str, str, int]]:
        """(kind, state, count) for every kind with jobs."""
        rows = await self._conn.fetchall(
            "SELECT kind, state, count(*) FROM jobs GROUP BY kind, state ORDER BY kind, state"
        )
        return [(str(kind), str(state), int(n)) for kind, state, n in rows]

    async def oldest_pending(self) -> float | None:
        """When the oldest pending job was enqueued (a stuck queue shows here first)."""
        oldest = await self._conn.fetchval(
            "SELECT min(created_at) FROM jobs WHERE state = 'pending'"
        )
        return float(oldest) if oldest is not None else None
