"""Legal holds: conversations that retention must not remove while a hold lasts."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.sql import Connection


@dataclass(frozen=True)
class HoldRow:
    conversation_id: int
    reason: str
    held_by: str
    since: float


class Holds:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, conversation_id: int) -> HoldRow | None:
        row = await self._conn.fetchone(
            "SELECT conversation_id, reason, held_by, since FROM legal_holds"
            " WHERE conversation_id = ?",
            (conversation_id,),
        )
        return HoldRow(*row) if row else None

    async def hold(self, hold: HoldRow) -> bool:
        """Place ``hold``; False if the conversation is held already (the first hold stays)."""
        changed = await self._conn.execute(
            "INSERT INTO legal_holds (conversation_id, reason, held_by, since)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (hold.conversation_id, hold.reason, hold.held_by, hold.since),
        )
        return changed == 1

    async def release(self, conversation_id: int) -> bool:
        """Lift the hold; False if there was none."""
        changed = await self._conn.execute(
            "DELETE FROM legal_holds WHERE conversation_id = ?", (conversation_id,)
        )
        return changed == 1
