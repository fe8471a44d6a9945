"""Conversations: one open conversation per contact and business number, mapped to one
chat thread. A customer who writes to two of the business's numbers has two: each is
answered from its own number (``number_id``)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ids import ThreadId
from bot.store.sql import Connection


@dataclass(frozen=True)
class ConversationRow:
    id: int
    contact_id: int
    state: str
    thread_id: ThreadId | None
    opened_at: float
    closed_at: float | None
    claimed_by: str | None
    last_customer_at: float | None
    last_agent_at: float | None
    number_id: str = ""
    """The business number the customer wrote to; replies leave from it."""
    chat_platform: str = ""
    chat_room: str = ""
    """Where the thread was opened (``bot.routing``); "" before rooms were recorded: the
    global room of ``[chat] platform``."""

    @property
    def is_open(self) -> bool:
        return self.state == "open"


_COLUMNS = (
    "id, contact_id, state, thread_id, opened_at, closed_at, claimed_by,"
    " last_customer_at, last_agent_at, number_id, chat_platform, chat_room"
)


class Conversations:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def _one(self, where: str, args: tuple[object, ...]) -> ConversationRow | None:
        rows = await self._conn.fetchall(
            f"SELECT {_COLUMNS} FROM conversations WHERE {where}", args
        )  # one hand-off to the database thread, not three (execute, fetch, close)
        return next((ConversationRow(*row) for row in rows), None)

    async def get(self, conversation_id: int) -> ConversationRow | None:
        return await self._one("id = ?", (conversation_id,))

    async def open_for(self, contact_id: int, number_id: str) -> ConversationRow | None:
        return await self._one(
            "contact_id = ? AND number_id = ? AND state = 'open'", (contact_id, number_id)
        )

    async def by_thread(
        self, thread_id: ThreadId, room: str | None = None
    ) -> ConversationRow | None:
        """The conversation of a thread; with ``room``, only one opened in that room (or
        before rooms were recorded): Slack's thread ids are unique per channel only."""
        if room is None:
            return await self._one("thread_id = ?", (thread_id,))
        return await self._one(
            "thread_id = ? AND chat_room IN (?, '') ORDER BY chat_room DESC LIMIT 1",
            (thread_id, room),
        )

    async def latest_for(self, contact_id: int) -> ConversationRow | None:
        return await self._one("contact_id = ? ORDER BY id DESC LIMIT 1", (contact_id,))

    async def ensure_open(
        self, contact_id: int, now: float, *, number_id: str = ""
    ) -> tuple[ConversationRow, bool]:
        """The contact's open conversation with the business number, opening one if there
        is none; True if new. "" is the first configured number, before it was recorded."""
        found = await self.open_for(contact_id, number_id)
        if found is not None:
            return found, False
        await self._conn.execute(
            "INSERT INTO conversations (contact_id, number_id, state, opened_at)"
            " VALUES (?, ?, 'open', ?)",
            (contact_id, number_id, now),
        )
        created = await self.open_for(contact_id, number_id)
        assert created is not None
        return created, True

    async def claim_unnumbered(self, number_id: str) -> int:
        """Give conversations stored before numbers were recorded to ``number_id``, the one
        number configured then (the first ``[[numbers]]`` entry keeps it). Returns how many."""
        changed = await self._conn.execute(
            "UPDATE conversations SET number_id = ? WHERE number_id = ''", (number_id,)
        )
        return changed

    async def open_thread_rooms(self) -> list[tuple[str, str]]:
        """``(platform, room)`` of every open conversation's thread: the rooms a platform
        keeps serving after the configuration moved a number elsewhere."""
        rows = await self._conn.fetchall(
            "SELECT DISTINCT chat_platform, chat_room FROM conversations"
            " WHERE state = 'open' AND thread_id IS NOT NULL AND chat_room <> ''",
            (),
        )
        return [(str(platform), str(room)) for platform, room in rows]

    async def set_thread(
        self, conversation_id: int, thread_id: ThreadId, *, platform: str = "", room: str = ""
    ) -> None:
        """Record the thread and the room (of ``platform``) it was opened in."""
        await self._conn.execute(
            "UPDATE conversations SET thread_id = ?, chat_platform = ?, chat_room = ? WHERE id = ?",
            (thread_id, platform, room, conversation_id),
        )

    async def touch_customer(self, conversation_id: int, at: float) -> None:
        await self._conn.execute(
            "UPDATE conversations SET last_customer_at ="
            f" {self._conn.dialect.greatest('coalesce(last_customer_at, 0)', '?')} WHERE id = ?",
            (at, conversation_id),
        )

    async def touch_agent(self, conversation_id: int, at: float) -> None:
        await self._conn.execute(
            "UPDATE conversations SET last_agent_at = ? WHERE id = ?", (at, conversation_id)
        )

    async def close(self, conversation_id: int, now: float) -> bool:
        changed = await self._conn.execute(
            "UPDATE conversations SET state = 'closed', closed_at = ?"
            " WHERE id = ? AND state = 'open'",
            (now, conversation_id),
        )
        return changed == 1

    async def claim(self, conversation_id: int, agent: str) -> None:
        await self._conn.execute(
            "UPDATE conversations SET claimed_by = ? WHERE id = ?", (agent, conversation_id)
        )
