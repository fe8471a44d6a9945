"""Everything the store holds about one person (the data subject), for access requests.

Read-only. Each query is keyed by the person's contact id or pseudonym, never by a text
search: a similar text from someone else must not be found (Art. 15: all of A, nothing of B).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TypeVar

from bot.ids import ProviderMessageId
from bot.store.contacts import ContactRow
from bot.store.conversations import ConversationRow
from bot.store.messages import MessageRow
from bot.store.sql import Connection

Row = TypeVar("Row", ContactRow, ConversationRow, MessageRow)


@dataclass(frozen=True)
class StatusEventRow:
    provider_id: ProviderMessageId
    status: str
    timestamp: int
    error_code: int | None
    error_title: str | None


@dataclass(frozen=True)
class CaseLinkFact:
    """A case a conversation was linked to: which system and which case, not its content."""

    conversation_id: int
    sink: str
    case_id: str | None
    case_label: str | None


class Subjects:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def contacts(
        self, *, pseudonym: str | None = None, wa_id: str | None = None
    ) -> list[ContactRow]:
        """The contacts with this pseudonym or number (one, unless the key changed)."""
        column, value = ("pseudonym", pseudonym) if pseudonym is not None else ("wa_id", wa_id)
        return await self._rows(ContactRow, "contacts", column, value)

    async def conversations(self, contact_id: int) -> list[ConversationRow]:
        return await self._rows(ConversationRow, "conversations", "contact_id", contact_id)

    async def messages(self, contact_id: int) -> list[MessageRow]:
        """Every message to or from the contact, also those not (yet) in a conversation."""
        return await self._rows(MessageRow, "messages", "contact_id", contact_id)

    async def _rows(self, make: type[Row], table: str, column: str, value: object) -> list[Row]:
        """Rows of ``table`` as ``make``, whose fields are the table's column names."""
        columns = ", ".join(field.name for field in fields(make))
        rows = await self._conn.fetchall(
            f"SELECT {columns} FROM {table} WHERE {column} = ? ORDER BY id", (value,)
        )
        return [make(*row) for row in rows]

    async def status_events(self, contact_id: int) -> list[StatusEventRow]:
        """WhatsApp's delivery receipts of the messages sent to the contact."""
        rows = await self._conn.fetchall(
            "SELECT e.provider_id, e.status, e.timestamp, e.error_code, e.error_title"
            " FROM status_events e JOIN messages m ON m.provider_id = e.provider_id"
            " WHERE m.contact_id = ? ORDER BY e.timestamp, e.provider_id",
            (contact_id,),
        )
        return [StatusEventRow(*row) for row in rows]

    async def case_links(self, contact_id: int) -> list[CaseLinkFact]:
        rows = await self._conn.fetchall(
            "SELECT l.conversation_id, l.sink, l.case_id, l.case_label FROM case_links l"
            " JOIN conversations c ON c.id = l.conversation_id WHERE c.contact_id = ?"
            " ORDER BY l.conversation_id, l.sink",
            (contact_id,),
        )
        return [CaseLinkFact(*row) for row in rows]
