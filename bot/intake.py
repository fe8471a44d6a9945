"""Webhook intake: store what arrived and enqueue its work, in ONE transaction.

The web handler answers 200 only after :meth:`Intake.accept` returned, i.e. after the commit.
A redelivered message or receipt hits the unique keys and creates nothing, so Meta's retries
and duplicate deliveries are harmless.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import privacy
from bot.domain import WebhookBatch
from bot.store import Store, Tx

INBOUND_JOB = "relay.inbound"
STATUS_JOB = "chat.status"


def contact_order_key(contact_id: int) -> str:
    """Jobs of one customer run in order; a conversation belongs to exactly one customer."""
    return f"contact:{contact_id}"


@dataclass(frozen=True)
class IntakeResult:
    new_messages: int
    new_statuses: int
    duplicates: int
    unsupported: int


class Intake:
    def __init__(self, store: Store, *, pseudonym_key: bytes) -> None:
        self._store = store
        self._key = pseudonym_key

    async def accept(self, batch: WebhookBatch) -> IntakeResult:
        """Persist the batch; returns counts once it is durably committed."""
        async with self._store.transaction() as tx:
            return await self._accept(tx, batch)

    async def _accept(self, tx: Tx, batch: WebhookBatch) -> IntakeResult:
        now = tx.clock.now()
        new_messages = new_statuses = duplicates = unsupported = 0
        for message in batch.messages:
            key = message.sender.key
            wa_id = message.sender.wa_id
            contact_id = await tx.contacts.upsert(
                message.sender,
                pseudonym=privacy.pseudonym(self._key, key),
                region=privacy.region_for(wa_id) if wa_id else None,
                now=now,
            )
            message_id = await tx.messages.insert_inbound(contact_id, message, now)
            if message_id is None:
                duplicates += 1
                continue
            new_messages += 1
            await tx.jobs.enqueue(
                INBOUND_JOB,
                {"message_id": message_id},
                now=now,
                order_key=contact_order_key(contact_id),
            )
        for status in batch.statuses:
            if not await tx.messages.record_status_event(status, now):
                duplicates += 1
                continue
            new_statuses += 1
            changed = await tx.messages.apply_status_events(status.provider_message_id)
            if changed is not None:
                await tx.jobs.enqueue(
                    STATUS_JOB,
                    {"message_id": changed.id},
                    now=now,
                    order_key=contact_order_key(changed.contact_id),
                )
        for event in batch.unsupported:
            if await tx.messages.record_unsupported(event, now):
                unsupported += 1
            else:
                duplicates += 1
        return IntakeResult(new_messages, new_statuses, duplicates, unsupported)
