"""Where the chat connection's event stream stands (Matrix's sync token), kept in the database
so that the next leader continues from it: neither replaying nor missing agents' events.

A file per replica (``matrix.store_path``) cannot do that: a new leader would start from its
own, stale or empty, position. The row is written by the leader only, fenced by its term:
the write happens only while ``leader_lease`` still names this holder and term, unexpired, in
the same statement. A leader frozen past its lease (a stopped VM) that runs again cannot
move the position back behind the one its successor stored.

The table is created here (like ``leader_lease``), not by the store's migrations: it is
coordination state of replicas, which SQLite installations never need.
"""

from __future__ import annotations

from typing import Any, Final

from bot.ha.connection import DATABASE_ERRORS, Connector, discard, open_connection
from bot.ha.leader import LeaderLease, LeadershipLost

POSITION_TABLE: Final = """
CREATE TABLE IF NOT EXISTS chat_sync_position (
    name TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    term BIGINT NOT NULL
)"""

_LOAD: Final = "SELECT token FROM chat_sync_position WHERE name = $1"

# One statement: the lease check and the write cannot be separated by a takeover.
_SAVE: Final = """
INSERT INTO chat_sync_position AS p (name, token, term)
SELECT $1, $2, l.term FROM leader_lease l
WHERE l.name = $3 AND l.holder = $4 AND l.term = $5 AND l.expires_at > now()
ON CONFLICT (name) DO UPDATE SET token = excluded.token, term = excluded.term
    WHERE p.term <= excluded.term"""


class SyncPositionFenced(LeadershipLost):
    """The position was not stored: this replica no longer holds the lease (or a later term
    already wrote one). Its chat connection is about to be stopped."""


class DatabaseSyncPosition:
    """The stored position of one event stream (``name``, e.g. ``matrix``), read and written
    by the current leader of ``lease``. Holds a connection of its own, opened on first use:
    followers never open one."""

    def __init__(
        self, connect: Connector, lease: LeaderLease, name: str, *, timeout: float
    ) -> None:
        self._connect = connect
        self._lease = lease
        self._name = name
        self._timeout = timeout
        self._conn: Any = None

    async def load(self) -> str:
        """The stored token; empty when none was stored yet."""
        conn = await self._connection()
        token = await self._run(conn.fetchval(_LOAD, self._name, timeout=self._timeout))
        return str(token) if token else ""

    async def save(self, token: str) -> None:
        """Store ``token`` in this leader's term; :class:`SyncPositionFenced` when this
        replica does not lead (any more)."""
        term = self._lease.term
        if term is None:
            raise SyncPositionFenced(f"replica {self._lease.replica} does not lead")
        conn = await self._connection()
        status = await self._run(
            conn.execute(
                _SAVE,
                self._name,
                token,
                self._lease.name,
                self._lease.holder,
                term,
                timeout=self._timeout,
            )
        )
        if status != "INSERT 0 1":
            raise SyncPositionFenced(
                f"replica {self._lease.replica} no longer leads (term {term}): sync position"
                " not stored"
            )

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            discard(conn)

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.is_closed():
            conn = await open_connection(self._connect, self._timeout)
            try:  # only a leader gets here, so only one replica creates it
                await conn.execute(POSITION_TABLE, timeout=self._timeout)
            except BaseException:
                discard(conn)
                raise
            self._conn = conn
        return self._conn

    async def _run(self, statement: Any) -> Any:
        """Await ``statement``; a failed connection is dropped for the next call to renew."""
        try:
            return await statement
        except DATABASE_ERRORS:
            await self.close()
            raise
