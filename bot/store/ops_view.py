"""Read-only look at the store for ``empfang status``: when webhooks last arrived, which
service windows close soon, which operational alerts are up.

Kept apart from the repositories because it serves one command and reads across tables;
it returns times and counts only, never a conversation's content or a customer.
"""

from __future__ import annotations

from bot.store.sql import Connection


class OpsView:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def last_webhook(self) -> float | None:
        """When the newest stored message, receipt or unsupported event arrived."""
        row = await self._conn.fetchone(
            "SELECT max(t) FROM ("
            " SELECT (SELECT created_at FROM messages WHERE direction = 'in'"
            "         ORDER BY id DESC LIMIT 1) AS t"
            " UNION ALL SELECT max(received_at) FROM status_events"
            " UNION ALL SELECT max(received_at) FROM unsupported_events) latest"
        )
        return float(row[0]) if row and row[0] is not None else None

    async def windows_closing(self, *, now: float, window: float, within: float) -> tuple[int, int]:
        """Open conversations whose customer service window closes in ``within`` seconds:
        (all of them, those whose last customer message is unanswered)."""
        row = await self._conn.fetchone(
            "SELECT count(*), coalesce(sum("
            "CASE WHEN coalesce(last_agent_at, 0) < last_customer_at THEN 1 ELSE 0 END), 0)"
            " FROM conversations WHERE state = 'open'"
            " AND last_customer_at > ? AND last_customer_at <= ?",
            (now - window, now + within - window),
        )
        assert row is not None
        return int(row[0]), int(row[1])

    async def active_alerts(self) -> list[tuple[str, float]]:
        """(kind, since) of every operational alert that is up."""
        rows = await self._conn.fetchall(
            "SELECT kind, since FROM operational_alerts WHERE active = 1 ORDER BY since"
        )
        return [(str(kind), float(since)) for kind, since in rows]
