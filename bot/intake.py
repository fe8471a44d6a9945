"""Webhook intake: store what arrived and enqueue its work, in ONE transaction.

The web handler answers 200 only after :meth:`Intake.accept` returned, i.e. after the commit.
A redelivered message or receipt hits the unique keys and creates nothing, so Meta's retries
and duplicate deliveries are harmless. Deliveries that arrive while a commit runs share the
next one (group commit), with their messages inserted in bulk: that is what lets one SQLite
file keep up with Meta's peak webhook rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import privacy
from bot.domain import InboundMessage, Sender, WebhookBatch
from bot.group_commit import GroupCommitter
from bot.store import Store, Tx

INBOUND_JOB = "relay.inbound"
STATUS_JOB = "chat.status"


_IDENTITY_CACHE = 50_000


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
        self._identities: dict[str, tuple[str, str | None]] = {}
        self._committer: GroupCommitter[WebhookBatch, IntakeResult] = GroupCommitter(
            self._commit_many, self._commit_one
        )

    async def accept(self, batch: WebhookBatch) -> IntakeResult:
        """Persist the batch; returns counts once it is durably committed."""
        return await self._committer.submit(batch)

    async def _commit_one(self, batch: WebhookBatch) -> IntakeResult:
        return (await self._commit_many([batch]))[0]

    async def _commit_many(self, batches: list[WebhookBatch]) -> list[IntakeResult]:
        async with self._store.transaction() as tx:
            new = await self._store_messages(tx, [m for b in batches for m in b.messages])
            results = []
            for batch in batches:
                fresh = 0
                for message in batch.messages:  # a wamid twice in one group counts once
                    if message.provider_id in new:
                        new.remove(message.provider_id)
                        fresh += 1
                statuses, status_dups = await self._store_statuses(tx, batch)
                unsupported, unsupported_dups = await self._store_unsupported(tx, batch)
                results.append(
                    IntakeResult(
                        fresh,
                        statuses,
                        len(batch.messages) - fresh + status_dups + unsupported_dups,
                        unsupported,
                    )
                )
            return results

    def _identity(self, key: str, wa_id: str | None) -> tuple[str, str | None]:
        """Pseudonym and region of a sender; cached, as the same customers write again."""
        found = self._identities.get(key)
        if found is None:
            if len(self._identities) >= _IDENTITY_CACHE:
                self._identities.clear()
            found = (
                privacy.pseudonym(self._key, key),
                privacy.region_for(wa_id) if wa_id else None,
            )
            self._identities[key] = found
        return found

    async def _store_messages(self, tx: Tx, messages: list[InboundMessage]) -> set[str]:
        """Insert all messages and one relay job per new one; returns the new provider ids."""
        if not messages:
            return set()
        now = tx.clock.now()
        by_wa_id: dict[str, Sender] = {}
        contact_of: dict[str, int] = {}
        for message in messages:
            sender = message.sender
            if sender.wa_id and not sender.user_id:
                by_wa_id[sender.wa_id] = sender  # the latest profile name wins
            else:  # BSUID users: the rare path, matched on either identity
                pseudonym, region = self._identity(sender.key, sender.wa_id)
                contact_of[sender.key] = await tx.contacts.upsert(
                    sender, pseudonym=pseudonym, region=region, now=now
                )
        if by_wa_id:
            rows = [(s, *self._identity(wa_id, wa_id)) for wa_id, s in by_wa_id.items()]
            contact_of.update(await tx.contacts.upsert_many(rows, now=now))
        new = await tx.messages.insert_inbound_many(
            [(contact_of[m.sender.key], m) for m in messages], now
        )
        await tx.jobs.enqueue_many(
            INBOUND_JOB,
            [({"message_id": mid}, contact_order_key(cid)) for mid, cid, _ in new],
            now=now,
        )
        return {provider_id for _, _, provider_id in new}

    async def _store_statuses(self, tx: Tx, batch: WebhookBatch) -> tuple[int, int]:
        now = tx.clock.now()
        new = duplicates = 0
        for status in batch.statuses:
            if not await tx.messages.record_status_event(status, now):
                duplicates += 1
                continue
            new += 1
            changed = await tx.messages.apply_status_events(status.provider_message_id)
            if changed is not None:
                await tx.jobs.enqueue(
                    STATUS_JOB,
                    {"message_id": changed.id},
                    now=now,
                    order_key=contact_order_key(changed.contact_id),
                )
        return new, duplicates

    async def _store_unsupported(self, tx: Tx, batch: WebhookBatch) -> tuple[int, int]:
        now = tx.clock.now()
        new = duplicates = 0
        for event in batch.unsupported:
            if await tx.messages.record_unsupported(event, now):
                new += 1
            else:
                duplicates += 1
        return new, duplicates
