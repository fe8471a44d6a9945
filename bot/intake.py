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
from bot.store.bulk import InboundRows, NewContact, create_intake_objects, store_inbound

INBOUND_JOB = "relay.inbound"
STATUS_JOB = "chat.status"


_IDENTITY_CACHE = 50_000


CONTACT_ORDER_PREFIX = "contact:"


def contact_order_key(contact_id: int) -> str:
    """Jobs of one customer run in order; a conversation belongs to exactly one customer."""
    return f"{CONTACT_ORDER_PREFIX}{contact_id}"


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
        self._bulk_ready = False
        self._committer: GroupCommitter[WebhookBatch, IntakeResult] = GroupCommitter(
            self._commit_many, self._commit_one
        )

    async def accept(self, batch: WebhookBatch) -> IntakeResult:
        """Persist the batch; returns counts once it is durably committed."""
        return await self._committer.submit(batch)

    async def _commit_one(self, batch: WebhookBatch) -> IntakeResult:
        return (await self._commit_many([batch]))[0]

    async def _commit_many(self, batches: list[WebhookBatch]) -> list[IntakeResult]:
        """Messages of senders known by number take the bulk path (one hand-off to the
        database thread); BSUID senders, receipts and unsupported events the general one.
        Both commit before any caller is answered."""
        messages = [m for b in batches for m in b.messages]
        bulk = [m for m in messages if m.sender.wa_id and not m.sender.user_id]
        rest = [m for m in messages if not (m.sender.wa_id and not m.sender.user_id)]
        new = await self._store_bulk(bulk) if bulk else set()
        counts: list[tuple[int, int, int, int]] = []
        if rest or any(b.statuses or b.unsupported for b in batches):
            async with self._store.transaction() as tx:
                new |= await self._store_each(tx, rest)
                for batch in batches:
                    counts.append(
                        (
                            *await self._store_statuses(tx, batch),
                            *await self._store_unsupported(tx, batch),
                        )
                    )
        else:
            counts = [(0, 0, 0, 0)] * len(batches)
        results = []
        for batch, (statuses, status_dups, unsupported, unsupported_dups) in zip(
            batches, counts, strict=True
        ):
            fresh = 0
            for message in batch.messages:  # a wamid twice in one group counts once
                if message.provider_id in new:
                    new.remove(message.provider_id)
                    fresh += 1
            duplicates = len(batch.messages) - fresh + status_dups + unsupported_dups
            results.append(IntakeResult(fresh, statuses, duplicates, unsupported))
        return results

    async def _store_bulk(self, messages: list[InboundMessage]) -> set[str]:
        if not self._bulk_ready:
            await self._store.run_sync(create_intake_objects, transaction=False)
            self._bulk_ready = True
        now = self._store.clock.now()
        rows = InboundRows.build([(self._new_contact(m.sender), m) for m in messages])
        new = await self._store.run_sync(
            lambda conn: store_inbound(
                conn, rows, now=now, job_kind=INBOUND_JOB, order_prefix=CONTACT_ORDER_PREFIX
            ),
            transaction=False,
        )
        return set(new)

    def _new_contact(self, sender: Sender) -> NewContact:
        pseudonym, region = self._identity(sender.key, sender.key)
        return NewContact(sender.key, pseudonym, sender.profile_name, region)

    async def _store_each(self, tx: Tx, messages: list[InboundMessage]) -> set[str]:
        """BSUID users (matched on either identity): the rare path, one message at a time."""
        now = tx.clock.now()
        new: set[str] = set()
        for message in messages:
            sender = message.sender
            pseudonym, region = self._identity(sender.key, sender.wa_id)
            contact_id = await tx.contacts.upsert(
                sender, pseudonym=pseudonym, region=region, now=now
            )
            message_id = await tx.messages.insert_inbound(contact_id, message, now)
            if message_id is None:
                continue
            new.add(message.provider_id)
            await tx.jobs.enqueue(
                INBOUND_JOB,
                {"message_id": message_id},
                now=now,
                order_key=contact_order_key(contact_id),
            )
        return new

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
