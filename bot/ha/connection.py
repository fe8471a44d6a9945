"""The dedicated PostgreSQL connections of ``bot.ha``: how they are made, which errors mean
"the database is out of reach", and how a broken one is thrown away.

The lease and the listener each hold a connection of their own, outside the store's: the
store's connection is busy with transactions, a ``LISTEN`` must stay open between them,
and a renewal must not queue behind a slow transaction.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

Connector = Callable[[], Awaitable[Any]]
"""Makes one ``asyncpg.Connection``: e.g. ``functools.partial(asyncpg.connect, url,
password=…)``, so TLS options and the password file stay where ``[store] url`` is read."""

DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,  # the server refused or ended the session (restart, terminate)
    asyncpg.InterfaceError,  # the connection was closed under us
    asyncpg.InternalClientError,
    OSError,  # refused, unreachable, reset
    TimeoutError,  # no answer in time: a partition looks like this
)
"""Errors after which the connection is dropped and made anew on the next round."""


def connector(url: str, password: str | None = None) -> Connector:
    """Connections to ``url`` (``[store] url``: TLS options in its query) with ``password``
    (``[store] password``/``password_file``), for the lease and the listener."""
    return functools.partial(asyncpg.connect, url, password=password)


async def open_connection(connect: Connector, within: float) -> Any:
    """A new connection, or ``TimeoutError`` when none comes within ``within`` seconds."""
    return await asyncio.wait_for(connect(), within)


def discard(conn: Any) -> None:
    """Abandon a connection that failed: ``terminate`` closes the socket without waiting
    for a server that may not answer."""
    if not conn.is_closed():
        conn.terminate()


async def close(conn: Any, within: float) -> None:
    """Close politely if the server answers within ``within`` seconds, else abandon."""
    try:
        await asyncio.wait_for(conn.close(), within)
    except DATABASE_ERRORS:
        discard(conn)
