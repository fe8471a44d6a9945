"""The leader lease: one replica at a time holds the chat connection (Matrix sync loop, Slack
Socket Mode) and the singletons (purge, template refresh, SLA scanner).

Why a lease row with an expiry, not a session advisory lock
-----------------------------------------------------------
An advisory lock lives as long as its holder's session. A SIGKILLed holder's kernel closes
the socket and the lock goes at once; but a holder whose machine dies or whose network is
cut leaves a session the server believes alive until TCP keepalive gives up (two hours
with Linux defaults, unless the server's ``tcp_keepalives_*`` are tuned, which a managed
PostgreSQL may not allow), so the takeover time would not be ours to promise. Worse, the
cut-off holder cannot tell that its lock is gone until it next reaches the server: for a
while two replicas would both drive the chat connection. And a pooler in transaction mode
(PgBouncer) does not keep session locks at all.

A row ``leader_lease(name, holder, term, expires_at)`` bounds both cases. The database
expires it ``LeaseTiming.expiry`` after the last renewal, whatever became of the holder;
the holder steps down on its own monotonic clock a heartbeat *before* that, whether or not
it can reach the database, so the old leader has stopped before a new one can start
(fencing by expiry with a margin; ``bot.ha.timing`` derives the durations). The price: a
SIGKILLed leader is replaced after up to four fifths of ``[ha] takeover_seconds`` instead
of at once. A leader that stops cleanly releases the row and notifies ``LEADER_CHANNEL``,
so a planned restart hands over without waiting for the expiry.

Each acquisition starts a new ``term`` (+1 in the row): a fencing token, for writes that
must come from the current leader only (``UPDATE … WHERE term = $current``). A leader whose
process was frozen (a stopped VM, a long GC pause) past its deadline learns of the loss
only when it runs again; the token is what stops such a leader's late writes.

The holder id is ``<replica>/<random>``: the replica name is for people and ``/metrics``; the
random part keeps two processes that were given the same name from renewing each other's
lease, and makes a restarted process wait for the expiry like any other.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any, Final

from bot.errors import EmpfangError
from bot.ha.connection import DATABASE_ERRORS, Connector, close, discard, open_connection
from bot.ha.notify import LEADER_CHANNEL
from bot.ha.timing import LeaseTiming

log = logging.getLogger("empfang.ha")

LEASE_TABLE: Final = """
CREATE TABLE IF NOT EXISTS leader_lease (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    term BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
)"""
"""Transient coordination state, not data: ``store copy`` and backups need not carry it.
Created by the lease itself because SQLite installations never need it."""

_SCHEMA_LOCK: Final = 0x454D5048  # "EMPH": replicas starting together create the table once

# Taken when nobody holds it, it expired, or this very process held it (it stepped down on
# its own clock while the row still named it): each acquisition is a new term.
_ACQUIRE: Final = """
INSERT INTO leader_lease AS l (name, holder, term, expires_at)
VALUES ($1, $2, 1, now() + make_interval(secs => $3))
ON CONFLICT (name) DO UPDATE
    SET holder = excluded.holder, term = l.term + 1, expires_at = excluded.expires_at
    WHERE l.expires_at <= now() OR l.holder = excluded.holder
RETURNING term"""

# Only the same term, and only before the database's expiry: a late renewal must not
# revive a lease another replica may already be entitled to.
_RENEW: Final = """
UPDATE leader_lease SET expires_at = now() + make_interval(secs => $4)
WHERE name = $1 AND holder = $2 AND term = $3 AND expires_at > now()"""

_RELEASE: Final = """
WITH released AS (
    UPDATE leader_lease SET expires_at = now()
    WHERE name = $1 AND holder = $2 AND term = $3
    RETURNING name
)
SELECT pg_notify($4, name) FROM released"""


class LeadershipLost(EmpfangError):
    """This replica's leader lease ended while it was leading: not renewed in time (the
    database out of reach), or found expired or taken over. Raised by :meth:`LeaderLease.leading`
    in place of the cancelled leader's work."""


class LeaderLease:
    """One replica's part in the election for ``name``.

    Run it with :meth:`running` (or a task of :meth:`run`); then :meth:`acquired` waits
    until this replica leads, :meth:`leading` runs code only while it does, :meth:`on_lost`
    registers callbacks for the moment it stops.
    """

    def __init__(
        self,
        connect: Connector,
        *,
        replica: str,
        timing: LeaseTiming,
        name: str = "leader",
    ) -> None:
        self.replica = replica
        self.name = name
        self.holder = f"{replica}/{secrets.token_hex(4)}"
        self._connect = connect
        self._timing = timing
        self._conn: Any = None
        self._schema_ready = False
        self._term: int | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self._leading = asyncio.Event()
        self._poked = asyncio.Event()
        self._lost_callbacks: list[Callable[[], object]] = []
        self._last_contact: float | None = None
        self._failing = False

    @property
    def is_leader(self) -> bool:
        return self._term is not None

    @property
    def term(self) -> int | None:
        """The fencing token of the current term; None while not leading."""
        return self._term

    @property
    def reachable(self) -> bool:
        """Whether the database answered within the last lease expiry: every replica talks
        to it each heartbeat, so ``/readyz`` can ask this instead of adding a query."""
        last = self._last_contact
        now = asyncio.get_running_loop().time()
        return last is not None and now - last <= self._timing.expiry

    def on_lost(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback`` (synchronously, at the moment of the step-down) each time this
        replica stops leading; returns the function that unregisters it. Keep it short:
        cancel the chat connection's task, do not wait for it."""
        self._lost_callbacks.append(callback)
        return lambda: self._lost_callbacks.remove(callback)

    def poke(self) -> None:
        """Try to take over now instead of at the next heartbeat: a listener on
        ``LEADER_CHANNEL`` calls this when a leader releases the lease."""
        self._poked.set()

    async def acquired(self) -> int:
        """Wait until this replica leads; the term's fencing token."""
        while True:
            await self._leading.wait()
            if self._term is not None:
                return self._term

    @asynccontextmanager
    async def leading(self) -> AsyncIterator[int]:
        """Wait until this replica leads, then run the body as leader. The moment the lease
        is lost the body is cancelled and :class:`LeadershipLost` raised in its place (like
        ``asyncio.timeout``); the body gets the term's fencing token."""
        term = await self.acquired()
        task = asyncio.current_task()
        assert task is not None  # an async with runs in a task
        cancelling = task.cancelling()
        lost = False

        def cancel_body() -> None:
            nonlocal lost
            lost = True
            task.cancel()

        unregister = self.on_lost(cancel_body)
        try:
            yield term
        except asyncio.CancelledError:
            if lost and task.uncancel() <= cancelling:
                raise LeadershipLost(
                    f"replica {self.replica} lost the lead (term {term})"
                ) from None
            raise
        finally:
            unregister()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[LeaderLease]:
        """Take part in the election for the duration of the block; on leaving, a leader
        steps down and releases the lease so another replica takes over at once.

        The first round runs before the block: a replica that has started has talked to the
        database (or knows it could not), so ``/readyz`` does not answer "database not
        reachable" for the moments until a heartbeat task's first round."""
        first = asyncio.get_running_loop().time()
        try:
            await self._round(first)
        except BaseException:
            await self._leave()
            raise
        task = asyncio.create_task(self._heartbeats(first), name=f"leader lease {self.replica}")
        try:
            yield self
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _heartbeats(self, started: float) -> None:
        """After the round begun at ``started``: try to lead, or renew while leading, every
        heartbeat, until cancelled."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self._pause(started)
                started = loop.time()
                await self._round(started)
        finally:
            await self._leave()

    async def _round(self, started: float) -> None:
        timeout = self._timing.statement_timeout
        try:
            conn = await self._connection()
            term = self._term
            if term is None:
                won = await conn.fetchval(
                    _ACQUIRE, self.name, self.holder, self._timing.expiry, timeout=timeout
                )
                if won is not None:
                    self._begin(int(won), started)
            else:
                status = await conn.execute(
                    _RENEW, self.name, self.holder, term, self._timing.expiry, timeout=timeout
                )
                if status != "UPDATE 1":
                    self._step_down("the database shows it expired or taken over")
                elif self._term == term:  # not stepped down while the renewal was under way
                    self._trust_until(started + self._timing.step_down_after)
        except DATABASE_ERRORS as exc:
            self._drop_connection()
            if not self._failing:
                self._failing = True
                log.warning(
                    "ha: replica %s cannot reach the database (%s); %s",
                    self.replica,
                    type(exc).__name__,
                    "steps down unless a renewal succeeds in time"
                    if self.is_leader
                    else "retrying every heartbeat",
                )
            return
        self._last_contact = asyncio.get_running_loop().time()
        if self._failing:
            self._failing = False
            log.info("ha: replica %s reaches the database again", self.replica)

    async def _pause(self, started: float) -> None:
        """A heartbeat from the round's start; a failing leader retries sooner, a follower
        wakes early when poked."""
        timing = self._timing
        step = timing.retry_after_failure if self._failing and self.is_leader else timing.heartbeat
        delay = max(0.0, started + step - asyncio.get_running_loop().time())
        if self.is_leader:
            await asyncio.sleep(delay)
            return
        with suppress(TimeoutError):
            await asyncio.wait_for(self._poked.wait(), delay)
        self._poked.clear()

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.is_closed():
            self._conn = await open_connection(self._connect, self._timing.statement_timeout)
        if not self._schema_ready:
            async with self._conn.transaction():
                await self._conn.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
                await self._conn.execute(LEASE_TABLE)
            self._schema_ready = True
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            discard(self._conn)
            self._conn = None

    def _begin(self, term: int, started: float) -> None:
        if asyncio.get_running_loop().time() >= started + self._timing.step_down_after:
            return  # the answer came too late to trust; the row expires on its own
        self._term = term
        self._trust_until(started + self._timing.step_down_after)
        self._leading.set()
        log.info("ha: replica %s leads (term %d)", self.replica, term)

    def _trust_until(self, deadline: float) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = asyncio.get_running_loop().call_at(deadline, self._expired)

    def _expired(self) -> None:
        self._step_down(f"no renewal for {self._timing.step_down_after:g}s")

    def _step_down(self, why: str, level: int = logging.WARNING) -> None:
        term, self._term = self._term, None
        if term is None:
            return
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._leading.clear()
        log.log(level, "ha: replica %s stops leading (term %d): %s", self.replica, term, why)
        for callback in list(self._lost_callbacks):
            try:
                callback()
            except Exception:
                log.exception("ha: a callback for the lost lead failed")

    async def _leave(self) -> None:
        """Step down and release the row (so a follower need not wait for the expiry);
        best effort: a database out of reach lets the row expire instead."""
        term = self._term
        self._step_down("this replica stops", logging.INFO)
        conn, self._conn = self._conn, None
        if conn is None:
            return
        timeout = self._timing.statement_timeout
        if term is not None and not conn.is_closed():
            with suppress(*DATABASE_ERRORS):
                await conn.execute(
                    _RELEASE, self.name, self.holder, term, LEADER_CHANNEL, timeout=timeout
                )
        await close(conn, timeout)
