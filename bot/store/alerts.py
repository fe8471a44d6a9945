"""SQL of on-call state: SLA timers, operational alerts, auto-replies sent per day."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.sql import Connection


@dataclass(frozen=True)
class SlaTimer:
    conversation_id: int
    since: float
    since_message_id: int
    stage: str


class Alerts:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def start_timer(self, conversation_id: int, since: float, message_id: int) -> bool:
        """Start waiting on the first unanswered customer message; False if already waiting."""
        changed = await self._conn.execute(
            "INSERT INTO sla_timers (conversation_id, since, since_message_id, stage)"
            " VALUES (?, ?, ?, 'waiting') ON CONFLICT DO NOTHING",
            (conversation_id, since, message_id),
        )
        return changed == 1

    async def timer(self, conversation_id: int) -> SlaTimer | None:
        rows = await self._conn.fetchall(
            "SELECT conversation_id, since, since_message_id, stage FROM sla_timers"
            " WHERE conversation_id = ?",
            (conversation_id,),
        )  # one hand-off to the database thread, not three (execute, fetch, close)
        return next((SlaTimer(*row) for row in rows), None)

    async def advance_timer(self, conversation_id: int, frm: str, to: str) -> bool:
        changed = await self._conn.execute(
            "UPDATE sla_timers SET stage = ? WHERE conversation_id = ? AND stage = ?",
            (to, conversation_id, frm),
        )
        return changed == 1

    async def stop_timer(self, conversation_id: int) -> SlaTimer | None:
        """Remove the timer (an agent answered); returns what it was."""
        found = await self.timer(conversation_id)
        if found is not None:
            await self._conn.execute(
                "DELETE FROM sla_timers WHERE conversation_id = ?", (conversation_id,)
            )
        return found

    async def raise_operational(self, kind: str, summary: str, now: float) -> bool:
        """Mark ``kind`` active; False if it already was (each alert fires once)."""
        changed = await self._conn.execute(
            "INSERT INTO operational_alerts (kind, active, since, summary) VALUES (?, 1, ?, ?)"
            " ON CONFLICT (kind) DO UPDATE SET active = 1, since = excluded.since,"
            " summary = excluded.summary WHERE operational_alerts.active = 0",
            (kind, now, summary),
        )
        return changed == 1

    async def clear_operational(self, kind: str) -> bool:
        """Mark ``kind`` resolved; False if it was not active."""
        changed = await self._conn.execute(
            "UPDATE operational_alerts SET active = 0 WHERE kind = ? AND active = 1", (kind,)
        )
        return changed == 1

    async def active_operational(self) -> list[str]:
        rows = await self._conn.fetchall(
            "SELECT kind FROM operational_alerts WHERE active = 1 ORDER BY kind"
        )
        return [str(row[0]) for row in rows]

    async def claim_auto_reply(self, conversation_id: int, local_date: str) -> bool:
        """True the first time per conversation and local day: one auto-reply a day."""
        changed = await self._conn.execute(
            "INSERT INTO auto_replies (conversation_id, local_date) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            (conversation_id, local_date),
        )
        return changed == 1
