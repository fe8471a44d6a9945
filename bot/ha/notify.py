"""Wake-ups between replicas with PostgreSQL's ``LISTEN/NOTIFY``: a replica that commits new
jobs tells the others, so an idle replica sleeps instead of polling the queue.

The sending side is one statement inside the committing transaction (:func:`notify`, or
:data:`NOTIFY_JOBS_SQL` appended to it): PostgreSQL delivers it at ``COMMIT``, drops it on
rollback, and folds identical notifications of one transaction into one, so a batch of
a thousand jobs wakes each listener once.

The receiving side, :class:`Listener`, keeps one dedicated connection in ``LISTEN``. A
notification sent while it was disconnected is gone for good (PostgreSQL does not queue
them for absent listeners), so after every reconnect it calls all callbacks once: the
callbacks look at the queue anyway, and a missed wake-up would otherwise leave a job
waiting for the workers' slow fallback. A connection that stopped answering (a partition
sends no FIN) is found by one ``SELECT 1`` per ``check_seconds`` of silence; a refused
reconnect backs off exponentially with jitter, up to ``max_backoff``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from contextlib import suppress
from typing import Any, Final

from bot.ha.connection import DATABASE_ERRORS, Connector, close, discard, open_connection

log = logging.getLogger("empfang.ha")

JOBS_CHANNEL: Final = "empfang_jobs"
"""New jobs were committed: idle workers look at the queue."""
LEADER_CHANNEL: Final = "empfang_leader"
"""The leader released its lease (``bot.ha.leader``): followers try to take over now."""

NOTIFY_JOBS_SQL: Final = f"SELECT pg_notify('{JOBS_CHANNEL}', '')"
"""The statement to run inside a transaction that enqueued jobs, for callers that issue
SQL text rather than holding an asyncpg connection."""

Wake = Callable[[], object]


async def notify(conn: Any, channel: str = JOBS_CHANNEL, *, sender: str = "") -> None:
    """Inside the transaction on ``conn`` (an ``asyncpg.Connection``): wake every replica
    listening on ``channel`` once it commits. ``sender`` (the payload) lets the sending
    process ignore its own notification (``Listener.subscribe``)."""
    await conn.execute("SELECT pg_notify($1, $2)", channel, sender)


class Listener:
    """Calls the callbacks subscribed to a channel when a notification arrives on it, and
    all of them after each reconnect. :meth:`run` until cancelled."""

    def __init__(
        self,
        connect: Connector,
        *,
        check_seconds: float,
        connect_timeout: float = 10.0,
        first_backoff: float = 0.1,
        max_backoff: float = 10.0,
    ) -> None:
        self._connect = connect
        self._check_seconds = check_seconds
        self._connect_timeout = connect_timeout
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._wakes: dict[str, list[tuple[Wake, str | None]]] = {}
        self._running = False
        self._listening = asyncio.Event()
        self.sessions = 0
        """How many times ``LISTEN`` was set up: 1 + reconnects."""

    def subscribe(self, channel: str, wake: Wake, *, ignore_payload: str | None = None) -> None:
        """Call ``wake()`` on every notification on ``channel`` except those whose payload
        is ``ignore_payload`` (a process's own, see ``bot.store.postgres_backend``); before
        :meth:`run` only, so every session listens on the same channels."""
        if self._running:
            raise RuntimeError("subscribe before the listener runs")
        self._wakes.setdefault(channel, []).append((wake, ignore_payload))

    @property
    def is_listening(self) -> bool:
        return self._listening.is_set()

    async def listening(self) -> None:
        """Wait until a session is listening (a notification sent after this arrives)."""
        await self._listening.wait()

    async def run(self) -> None:
        self._running = True
        backoff = self._first_backoff
        outage = False
        try:
            while True:
                try:
                    conn = await open_connection(self._connect, self._connect_timeout)
                except DATABASE_ERRORS as exc:
                    if not outage:
                        outage = True
                        log.warning(
                            "ha: listener cannot reach the database (%s); retrying",
                            type(exc).__name__,
                        )
                    conn = None
                if conn is not None and await self._session(conn):
                    backoff, outage = self._first_backoff, False
                    continue  # it listened, then lost the connection: reconnect at once
                await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                backoff = min(2 * backoff, self._max_backoff)
        finally:
            self._running = False
            self._listening.clear()

    async def _session(self, conn: Any) -> bool:
        """Listen on ``conn`` until it ends, then abandon it; whether it listened at all."""
        ended = asyncio.Event()
        conn.add_termination_listener(lambda _conn: ended.set())
        try:
            for channel in self._wakes:
                await conn.add_listener(channel, self._dispatch)
        except DATABASE_ERRORS as exc:
            log.warning("ha: listener could not LISTEN (%s); retrying", type(exc).__name__)
            discard(conn)
            return False
        self.sessions += 1
        self._listening.set()
        if self.sessions > 1:
            log.info("ha: listener reaches the database again")
            self._wake_all()  # what was sent while it was away is lost
        try:
            while await self._still_connected(conn, ended):
                pass
            log.warning("ha: listener lost its database connection; reconnecting")
        finally:
            self._listening.clear()
            if ended.is_set() or conn.is_closed():
                discard(conn)
            else:  # cancelled: a clean goodbye
                await close(conn, self._connect_timeout)
        return True

    async def _still_connected(self, conn: Any, ended: asyncio.Event) -> bool:
        """False once the server ended the session, or after ``check_seconds`` of silence
        it did not answer a ``SELECT 1``."""
        with suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), self._check_seconds)
            return False
        try:
            await conn.execute("SELECT 1", timeout=self._connect_timeout)
        except DATABASE_ERRORS:
            discard(conn)
            return False
        return True

    def _dispatch(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        for wake, ignored in self._wakes.get(channel, ()):
            if payload != ignored:
                self._call(wake)

    def _wake_all(self) -> None:
        for wakes in self._wakes.values():
            for wake, _ignored in wakes:
                self._call(wake)

    @staticmethod
    def _call(wake: Wake) -> None:
        try:
            wake()
        except Exception:
            log.exception("ha: a wake-up callback failed")
