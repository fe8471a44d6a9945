"""This process's part among the replicas, assembled from ``[ha]``: the leader lease, the
listener (a released lease wakes the followers, committed jobs wake the workers) and their
gauges; :meth:`Replica.lead` runs the leader-only part of Empfang for as many terms as
this replica wins.

``empfang run`` builds one when ``[store] url`` is PostgreSQL; with SQLite there is
nothing to elect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from prometheus_client import CollectorRegistry

from bot.config.ha import HaSection
from bot.ha.connection import Connector
from bot.ha.leader import LeaderLease, LeadershipLost
from bot.ha.metrics import register_lease_metrics
from bot.ha.notify import JOBS_CHANNEL, LEADER_CHANNEL, Listener, Wake
from bot.ha.sync_position import DatabaseSyncPosition

log = logging.getLogger("empfang.ha")


class Replica:
    def __init__(self, connect: Connector, section: HaSection) -> None:
        self._connect = connect
        self._timing = section.timing
        self.lease = LeaderLease(connect, replica=section.replica_name(), timing=section.timing)
        # Silence is checked once per takeover_seconds: a dead listener costs at most that
        # much latency on wake-ups, which the workers' own polling bounds anyway.
        self.listener = Listener(connect, check_seconds=section.takeover_seconds)
        self.listener.subscribe(LEADER_CHANNEL, self.lease.poke)

    def on_new_jobs(self, wake: Wake, *, own_sender: str = "") -> None:
        """Call ``wake()`` when another replica commits jobs (and after each reconnect of
        the listener, as a notification may have been missed meanwhile). Notifications
        whose payload is ``own_sender`` (this process's store, which has woken its own
        workers already) are ignored."""
        self.listener.subscribe(JOBS_CHANNEL, wake, ignore_payload=own_sender or None)

    def sync_position(self, name: str) -> DatabaseSyncPosition:
        """Where the chat connection ``name`` stands, stored by whichever replica leads."""
        return DatabaseSyncPosition(
            self._connect, self.lease, name, timeout=self._timing.statement_timeout
        )

    def register_metrics(self, registry: CollectorRegistry) -> None:
        register_lease_metrics(registry, self.lease)

    @property
    def database_reachable(self) -> bool:
        """For ``/readyz``: the database answered within the lease's expiry."""
        return self.lease.reachable

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Replica]:
        """Listen and take part in the election for the duration of the block."""
        listening = asyncio.create_task(self.listener.run(), name="ha listener")
        try:
            async with self.lease.running():
                yield self
        finally:
            listening.cancel()
            with suppress(asyncio.CancelledError):
                await listening

    async def lead(
        self, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]
    ) -> None:
        """Until cancelled: ``start()`` each time this replica becomes leader, ``stop()``
        the moment it stops leading (the lease lost, or cancelled). ``start`` runs as the
        leader already: it is cancelled as soon as the lease is lost.

        An error from ``start`` (the homeserver refusing the login, say) ends ``lead``
        after ``stop()``, with the lease still held: the caller decides. ``empfang run``
        exits, which releases the lease, and another replica tries at once."""
        while True:
            try:
                async with self.lease.leading():
                    try:
                        await start()
                        await asyncio.Event().wait()
                    finally:
                        await stop()
            except LeadershipLost:
                log.info("ha: replica %s stopped its leader's work", self.lease.replica)
