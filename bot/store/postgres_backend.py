"""PostgreSQL through asyncpg: one connection per process, one transaction at a time.

The store's asyncio lock makes each transaction exclusive on this one connection, as on
SQLite: a transaction never sees another's half-done work, and every repository behaves
as it does on SQLite. Several processes (replicas) on one database share the job queue
safely: a job is leased ``FOR UPDATE SKIP LOCKED``, a job with an order key is enqueued
under an advisory lock of its key (``Dialect.order_lock``), and a commit that added jobs
sends ``NOTIFY`` to the others (``bot.ha.notify``). Who leads (the chat connection, the
singletons) is ``bot.ha``'s lease, not the store's.

asyncpg ships no type information: this module is the only one that touches it, and
types what it uses at the boundary.
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
from collections.abc import Callable, Coroutine, Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

import asyncpg

from bot.errors import SchemaTooNewError, StoreError
from bot.ha.notify import JOBS_CHANNEL, notify
from bot.store.backend import Backend
from bot.store.bulk import InboundRows
from bot.store.migrations import LATEST_VERSION, migration_sql
from bot.store.postgres_schema import BASELINE, BASELINE_VERSION
from bot.store.sql import Args, Connection, Dialect, Row

T = TypeVar("T")

_MIGRATION_LOCK = 0x454D5046  # "EMPF": replicas starting together migrate one at a time
_ORDER_LOCKS = 0x4F52  # "OR": the advisory locks of order keys, (this, hashtext(key))


class PostgresDialect(Dialect):
    name = "postgresql"
    chain_sequence = "SELECT seq FROM chain_sequences WHERE name = ?"
    insertion_order = "seq"
    probe_write = "CREATE TEMP TABLE IF NOT EXISTS probe (x INTEGER)"
    skip_locked = " FOR UPDATE OF j SKIP LOCKED"
    order_lock = f"SELECT pg_advisory_xact_lock({_ORDER_LOCKS}, hashtext(?))"

    def json_text(self, document: str, path: str) -> str:
        # ``json``, not ``jsonb``: a text with U+0000 in it (``\u0000``) is valid ``json``
        # and refused by ``jsonb``. One key: ``->>``, which the index on edits is made of.
        keys = path.split(".")
        if len(keys) == 1:
            return f"({document}::json ->> '{path}')"
        return f"({document}::json #>> '{{{','.join(keys)}}}')"

    def json_int(self, document: str, path: str) -> str:
        return f"CAST({self.json_text(document, path)} AS BIGINT)"

    def greatest(self, first: str, second: str) -> str:
        return f"greatest({first}, {second})"

    def without_media_ref(self, document: str) -> str:
        return (
            f"jsonb_set({document}::jsonb #- '{{media,url}}' #- '{{media,sha256}}',"
            " '{media,media_id}', '\"\"')::text"
        )


DIALECT = PostgresDialect()

_PLACEHOLDER = re.compile(r"\?")


@functools.lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """``?`` placeholders as asyncpg's ``$1, $2, …``; quoted text is left alone. Cached:
    the repositories send the same few hundred statements over and over."""
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    parts = sql.split("'")
    parts[::2] = [_PLACEHOLDER.sub(number, part) for part in parts[::2]]
    return "'".join(parts)


@contextlib.contextmanager
def values_withheld() -> Iterator[None]:
    """PostgreSQL's DETAIL quotes the values of a row that broke a constraint (``Key
    (wa_id)=(49151…) already exists``): a customer's number in an error's text, so in a log
    line and a dead job's reason. It is dropped here; the message names the constraint."""
    try:
        yield
    except asyncpg.PostgresError as exc:
        exc.detail = None
        raise


def _changed(status: str) -> int:
    """Rows a command changed, from asyncpg's status tag (``UPDATE 3``, ``INSERT 0 1``)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresConnection(Connection):
    dialect = DIALECT

    def __init__(self, conn: Any) -> None:
        self.raw: Any = conn
        """The ``asyncpg.Connection``."""

    async def execute(self, sql: str, args: Args = ()) -> int:
        with values_withheld():
            status: str = await self.raw.execute(numbered(sql), *args)
        return _changed(status)

    async def executemany(self, sql: str, rows: Iterable[Args]) -> None:
        with values_withheld():
            await self.raw.executemany(numbered(sql), [tuple(row) for row in rows])

    async def fetchall(self, sql: str, args: Args = ()) -> list[Row]:
        with values_withheld():
            return list(await self.raw.fetch(numbered(sql), *args))

    async def sync_at_commit(self) -> None:
        """Back to the server's own ``synchronous_commit`` for this transaction, whatever
        ``Store.transact(durable=False)`` set: PostgreSQL reads it at the commit."""
        await self.execute("SET LOCAL synchronous_commit TO DEFAULT")


# The intake's group write: the rows of many webhook deliveries in one statement, its own
# transaction; the same three writes per row as SQLite's trigger (``bot.store.bulk``). A
# function of this session (``pg_temp``), like SQLite's temporary trigger: it is the code
# of this Empfang, not part of the schema that several versions may share.
_INTAKE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION pg_temp.empfang_intake(
    rows json, now DOUBLE PRECISION, job_kind TEXT, order_prefix TEXT, lock_space INTEGER
) RETURNS SETOF TEXT LANGUAGE plpgsql AS $$
DECLARE
    r json;
    contact BIGINT;
    message BIGINT;
    new_jobs BOOLEAN := FALSE;
BEGIN
    FOR r IN SELECT value FROM json_array_elements(rows) LOOP
        INSERT INTO contacts AS c (wa_id, pseudonym, profile_name, region, created_at)
        VALUES (r ->> 0, r ->> 1, r ->> 2, r ->> 3, now)
        ON CONFLICT (wa_id) DO UPDATE SET profile_name = excluded.profile_name
            WHERE excluded.profile_name IS NOT NULL
            AND excluded.profile_name IS DISTINCT FROM c.profile_name;
    END LOOP;
    -- The conversations' order keys, locked in one order (no two groups deadlock): their jobs
    -- get ids in the order their transactions commit (``Dialect.order_lock``).
    PERFORM pg_advisory_xact_lock(lock_space, hashtext(key)) FROM (
        SELECT DISTINCT order_prefix || c.id || (e.value ->> 8) AS key
        FROM json_array_elements(rows) e
        JOIN contacts c ON c.wa_id = e.value ->> 0 ORDER BY 1
    ) keys;
    FOR r IN SELECT value FROM json_array_elements(rows) LOOP
        SELECT c.id INTO contact FROM contacts c WHERE c.wa_id = r ->> 0;
        message := NULL;
        INSERT INTO messages AS m (direction, contact_id, provider_id, kind, body, created_at)
        VALUES ('in', contact, r ->> 4, r ->> 5, r ->> 6, now)
        ON CONFLICT (provider_id) DO NOTHING
        RETURNING m.id INTO message;
        IF message IS NOT NULL THEN
            INSERT INTO jobs (kind, payload, order_key, run_after, created_at)
            VALUES (
                job_kind,
                format(
                    '{"message_id":%s,"contact_id":%s,"number_id":%s}',
                    message, contact, to_json(r ->> 7)
                ),
                order_prefix || contact || (r ->> 8), now, now
            );
            RETURN NEXT r ->> 4;
            new_jobs := TRUE;
        END IF;
    END LOOP;
    IF new_jobs THEN
        PERFORM pg_notify('{channel}', '{sender}');  -- others' idle workers (bot.ha.notify)
    END IF;
END $$;
"""


class PostgresBackend(Backend):
    conn: PostgresConnection
    errors = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

    def __init__(self, dsn: str, password: str | None, conn: Any, instance_id: str) -> None:
        self._dsn = dsn
        self._password = password
        self.conn = PostgresConnection(conn)
        self.instance_id = instance_id
        self.sender = secrets.token_hex(6)
        self._transaction: Any = None
        self._intake_ready = False

    @classmethod
    async def open(cls, dsn: str, *, password: str | None = None) -> PostgresBackend:
        """Connect and migrate. TLS and the like come with ``dsn`` (``?sslmode=…``)."""
        conn = await _connect(dsn, password)
        try:
            instance_id = await migrate(conn)
        except BaseException:
            await conn.close()
            raise
        return cls(dsn, password, conn, instance_id)

    async def _connection(self) -> Any:
        """The connection, made anew if the server dropped it (restart, failover)."""
        if self.conn.raw.is_closed():
            self.conn = PostgresConnection(await _connect(self._dsn, self._password))
            self._intake_ready = False
        return self.conn.raw

    async def begin(self) -> None:
        self._transaction = (await self._connection()).transaction()
        await self._transaction.start()

    async def commit(self) -> None:
        await self._transaction.commit()
        self._transaction = None

    async def rollback(self) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is None or self.conn.raw.is_closed():
            return
        try:
            await transaction.rollback()
        except self.errors:
            self.conn.raw.terminate()  # in an unknown state: the next transaction reconnects

    async def close(self) -> None:
        await self.conn.raw.close()

    async def announce_jobs(self) -> None:
        await notify(self.conn.raw, sender=self.sender)

    async def transact(
        self, body: Callable[[Connection], Coroutine[Any, Any, T]], *, durable: bool = True
    ) -> T:
        """Not ``durable``: committed with ``synchronous_commit = off`` (the server answers
        before its WAL is flushed; its WAL is sequential like SQLite's)."""
        if durable:
            return await super().transact(body)

        async def relaxed(conn: Connection) -> T:
            await conn.execute("SET LOCAL synchronous_commit TO OFF")
            return await body(conn)

        return await super().transact(relaxed)

    async def intake_on_disk(self) -> None:
        """Nothing to wait for: the intake's statement commits at the server's
        ``synchronous_commit``, which answers once the commit is durable."""

    async def store_inbound(
        self, rows: InboundRows, *, now: float, job_kind: str, order_prefix: str
    ) -> AbstractSet[str]:
        conn = await self._connection()
        if not self._intake_ready:
            function = _INTAKE_FUNCTION.replace("{channel}", JOBS_CHANNEL)
            await conn.execute(function.replace("{sender}", self.sender))  # hex: no quoting
            self._intake_ready = True
        with values_withheld():
            found = await conn.fetch(
                "SELECT pg_temp.empfang_intake($1::json, $2, $3, $4, $5)",
                rows.json,
                now,
                job_kind,
                order_prefix,
                _ORDER_LOCKS,
            )
        return {str(row[0]) for row in found}


CONNECT_TIMEOUT = 10.0
"""Seconds a new connection may take: an unreachable server answers /readyz and intake
with 503 after this, not after asyncpg's minute."""


async def _connect(dsn: str, password: str | None) -> Any:
    try:
        return await asyncpg.connect(dsn, password=password or None, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise StoreError(f"cannot connect to PostgreSQL: {type(exc).__name__}: {exc}") from exc


async def migrate(conn: Any) -> str:
    """Bring the schema to ``LATEST_VERSION`` (the baseline first on an empty database);
    returns the database's instance id. Each step is one transaction, under an advisory
    lock, so replicas starting together do not migrate twice."""
    async with conn.transaction():
        await conn.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        if await conn.fetchval("SELECT to_regclass('meta')") is None:
            await conn.execute(BASELINE)
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES ('instance_id', $1), ('schema_version', $2)",
                secrets.token_hex(6),
                str(BASELINE_VERSION),
            )
    found = int(await conn.fetchval("SELECT value FROM meta WHERE key = 'schema_version'"))
    if found > LATEST_VERSION:
        raise SchemaTooNewError(
            f"database schema version {found} is newer than this Empfang supports "
            f"({LATEST_VERSION}); upgrade Empfang or restore a matching backup"
        )
    for version in range(found + 1, LATEST_VERSION + 1):
        async with conn.transaction():
            await conn.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            now = int(await conn.fetchval("SELECT value FROM meta WHERE key = 'schema_version'"))
            if now >= version:
                continue  # another replica was first
            await conn.execute(migration_sql(version, "postgresql"))
            await conn.execute(
                "UPDATE meta SET value = $1 WHERE key = 'schema_version'", str(version)
            )
    return str(await conn.fetchval("SELECT value FROM meta WHERE key = 'instance_id'"))
