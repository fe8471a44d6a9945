"""Rooms the chat platform made to show one agent a text alone (``bot.reveal``), by the key
of the job that showed it.

A retried reveal job (its first attempt died after the room was made, or after the text
was sent and before the withdrawal was queued) finds its room here and shows its text
there again instead of in a second room that no withdrawal would ever reach; the
withdrawal then clears the whole room. A row goes when its room is withdrawn.
"""

from __future__ import annotations

from bot.store.sql import Connection


class PrivateRooms:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, key: str) -> str | None:
        row = await self._conn.fetchone("SELECT room_id FROM private_rooms WHERE key = ?", (key,))
        return str(row[0]) if row else None

    async def remember(self, key: str, room_id: str, *, now: float) -> None:
        await self._conn.execute(
            "INSERT INTO private_rooms (key, room_id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO NOTHING",
            (key, room_id, now),
        )

    async def forget(self, room_id: str) -> None:
        await self._conn.execute("DELETE FROM private_rooms WHERE room_id = ?", (room_id,))
