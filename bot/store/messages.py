"""Messages in both directions, their delivery receipts and unsupported webhook events.

Inbound bodies are stored without the sender (that lives in ``contacts``), so the number is
never copied into a message row.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import DeliveryStatus, InboundMessage, Sender, StatusUpdate, UnsupportedEvent
from bot.ids import ChatMessageId, ProviderMessageId, StatusRef, WaId
from bot.store.sql import Connection, marks


@dataclass(frozen=True)
class MessageRow:
    id: int
    direction: str
    contact_id: int
    conversation_id: int | None
    provider_id: ProviderMessageId | None
    chat_id: ChatMessageId | None
    kind: str
    body: str | None
    author: str | None
    status: str | None
    error_code: int | None
    error_title: str | None
    status_chat_id: StatusRef | None
    shown_status: str | None
    created_at: float

    def inbound(self, sender: Sender) -> InboundMessage:
        """The stored inbound message with its sender put back."""
        if self.body is None:
            raise ValueError(f"message {self.id} has no body (purged)")
        return InboundMessage.model_validate_json(self.body).model_copy(update={"sender": sender})

    @property
    def unposted(self) -> bool:
        """A customer's message not in the chat yet and not purged: what
        :meth:`Messages.earliest_unposted` chooses among (the same condition, kept beside it)."""
        return self.direction == "in" and self.chat_id is None and self.body is not None

    @property
    def delivery_status(self) -> DeliveryStatus | None:
        return DeliveryStatus(self.status) if self.status else None


_COLUMNS = (
    "id, direction, contact_id, conversation_id, provider_id, chat_id, kind, body, author,"
    " status, error_code, error_title, status_chat_id, shown_status, created_at"
)
_PLACEHOLDER_SENDER = Sender(wa_id=WaId("0"))


def stored_body(message: InboundMessage) -> str:
    """The allow-listed fields without the sender: the number lives in ``contacts`` only."""
    return message.model_copy(update={"sender": _PLACEHOLDER_SENDER}).model_dump_json(
        exclude_defaults=True
    )


class Messages:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._customer_time = conn.dialect.json_int("body", "timestamp")

    async def _one(self, where: str, args: tuple[object, ...]) -> MessageRow | None:
        row = await self._conn.fetchone(f"SELECT {_COLUMNS} FROM messages WHERE {where}", args)
        return MessageRow(*row) if row else None

    async def get(self, message_id: int) -> MessageRow | None:
        return await self._one("id = ?", (message_id,))

    async def by_chat_id(self, chat_id: ChatMessageId) -> MessageRow | None:
        return await self._one("chat_id = ?", (chat_id,))

    async def by_provider_id(self, provider_id: ProviderMessageId) -> MessageRow | None:
        return await self._one("provider_id = ?", (provider_id,))

    async def insert_inbound(
        self, contact_id: int, message: InboundMessage, now: float
    ) -> int | None:
        """Store a customer message once; None if this provider id was stored before."""
        body = stored_body(message)
        return await self._conn.insert(
            "INSERT INTO messages (direction, contact_id, provider_id, kind, body, created_at)"
            " VALUES ('in', ?, ?, ?, ?, ?) ON CONFLICT (provider_id) DO NOTHING",
            (contact_id, message.provider_id, message.kind.value, body, now),
        )

    async def insert_outbound(
        self,
        *,
        contact_id: int,
        conversation_id: int,
        chat_id: ChatMessageId | None,
        body: str,
        author: str,
        now: float,
        kind: str = "text",
    ) -> int | None:
        """Store an agent's reply once per chat message; None if seen before (redelivery).

        ``chat_id`` is None for messages Empfang itself sends (notices, auto-replies) and
        for an agent's second and later file of one chat message. ``kind`` is the
        WhatsApp type of an agent's file (``body`` is then its caption)."""
        return await self._conn.insert(
            "INSERT INTO messages (direction, contact_id, conversation_id, chat_id, kind, body,"
            " author, status, status_rank, created_at)"
            " VALUES ('out', ?, ?, ?, ?, ?, ?, 'queued', 0, ?)"
            " ON CONFLICT (chat_id) DO NOTHING",
            (contact_id, conversation_id, chat_id, kind, body, author, now),
        )

    async def earliest_unposted(self, message_ids: list[int]) -> MessageRow | None:
        """Of ``message_ids``, the customer message written first that is not in the chat yet
        (by the customer's own timestamp, then arrival); :attr:`MessageRow.unposted` is the
        same condition for a row already read."""
        return await self._one(
            f"id IN ({marks(message_ids)}) AND direction = 'in' AND chat_id IS NULL"
            f" AND body IS NOT NULL ORDER BY {self._customer_time}, id LIMIT 1",
            tuple(message_ids),
        )

    async def newest_posted_time(self, conversation_id: int) -> int | None:
        """The latest customer timestamp among this conversation's lines already in the chat.

        Written as ``ORDER BY … DESC LIMIT 1`` over exactly the expression and condition of
        the index ``messages_posted_in``, so both databases answer from the index; without
        NULLs, which PostgreSQL would put first."""
        newest = await self._conn.fetchval(
            f"SELECT {self._customer_time} FROM messages"
            " WHERE conversation_id = ? AND direction = 'in' AND chat_id IS NOT NULL"
            f" AND body IS NOT NULL AND {self._customer_time} IS NOT NULL"
            f" ORDER BY {self._customer_time} DESC LIMIT 1",
            (conversation_id,),
        )
        return int(newest) if newest is not None else None

    async def assign(self, message_id: int, conversation_id: int) -> None:
        await self._conn.execute(
            "UPDATE messages SET conversation_id = ? WHERE id = ?", (conversation_id, message_id)
        )

    async def set_chat_id(self, message_id: int, chat_id: ChatMessageId) -> None:
        await self._conn.execute(
            "UPDATE messages SET chat_id = ? WHERE id = ?", (chat_id, message_id)
        )

    async def set_shown_status(self, message_id: int, status: str, mark: StatusRef | None) -> None:
        """Remember which status the chat shows and the platform's ref of the mark showing it."""
        await self._conn.execute(
            "UPDATE messages SET shown_status = ?, status_chat_id = ? WHERE id = ?",
            (status, mark, message_id),
        )

    async def mark_failed(self, message_id: int, code: int | None, title: str) -> None:
        """A send refused outright (no receipt will come): record it like a failed receipt."""
        rank = DeliveryStatus.FAILED.rank
        await self._conn.execute(
            "UPDATE messages SET status = 'failed', status_rank = ?, error_code = ?,"
            " error_title = ? WHERE id = ?",
            (rank, code, title, message_id),
        )

    async def withhold_unsent(self, contact_id: int, author: str, title: str) -> int:
        """Mark ``author``'s messages to the contact that are not sent yet as failed with
        ``title`` (the send job then skips them); how many there were."""
        rank = DeliveryStatus.FAILED.rank
        return await self._conn.execute(
            "UPDATE messages SET status = 'failed', status_rank = ?, error_title = ?"
            " WHERE contact_id = ? AND direction = 'out' AND author = ?"
            " AND provider_id IS NULL AND status = 'queued'",
            (rank, title, contact_id, author),
        )

    async def latest_inbound(self, conversation_id: int) -> MessageRow | None:
        return await self._one(
            "conversation_id = ? AND direction = 'in' ORDER BY id DESC LIMIT 1",
            (conversation_id,),
        )

    async def mark_sent(self, message_id: int, provider_id: ProviderMessageId, now: float) -> None:
        await self._conn.execute(
            "UPDATE messages SET provider_id = ?, sent_at = ? WHERE id = ?",
            (provider_id, now, message_id),
        )

    async def record_status_event(self, update: StatusUpdate, now: float) -> bool:
        """Keep a receipt once per (message, status); False for a redelivered receipt."""
        inserted = await self._conn.execute(
            "INSERT INTO status_events (provider_id, status, timestamp, error_code, error_title,"
            " received_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                update.provider_message_id,
                update.status.value,
                update.timestamp,
                update.error_code,
                update.error_title,
                now,
            ),
        )
        return inserted == 1

    async def apply_status_events(self, provider_id: ProviderMessageId) -> MessageRow | None:
        """Move the message to its highest-ranked receipt; the row if that changed it.

        Receipts arrive in any order and may arrive before the send is recorded, so the
        status is always recomputed from all receipts kept for the message.
        """
        best: tuple[DeliveryStatus, int | None, str | None] | None = None
        for status, code, title in await self._conn.fetchall(
            "SELECT status, error_code, error_title FROM status_events WHERE provider_id = ?",
            (provider_id,),
        ):
            candidate = DeliveryStatus(status)
            if best is None or candidate.rank > best[0].rank:
                best = (candidate, code, title)
        if best is None:
            return None
        status, code, title = best
        changed = await self._conn.execute(
            "UPDATE messages SET status = ?, status_rank = ?, error_code = ?, error_title = ?"
            " WHERE provider_id = ? AND direction = 'out' AND status_rank < ?",
            (status.value, status.rank, code, title, provider_id, status.rank),
        )
        if changed != 1:
            return None
        return await self.by_provider_id(provider_id)

    async def record_unsupported(self, event: UnsupportedEvent, now: float) -> bool:
        inserted = await self._conn.execute(
            "INSERT INTO unsupported_events (digest, field, received_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (event.digest, event.field, now),
        )
        return inserted == 1

    async def in_conversation(self, conversation_id: int) -> list[MessageRow]:
        rows = await self._conn.fetchall(
            f"SELECT {_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        )
        return [MessageRow(*row) for row in rows]
