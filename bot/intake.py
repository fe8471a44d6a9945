"""Webhook intake: store what arrived and enqueue its work, in ONE transaction.

The web handler answers 200 only after :meth:`Intake.accept` returned, i.e. after the commit.
A redelivered message or receipt hits the unique keys and creates nothing, so Meta's retries
and duplicate deliveries are harmless. Deliveries that arrive while a commit runs share the
next one (group commit), with their messages inserted in bulk: that is what lets one SQLite
file keep up with Meta's peak webhook rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel

from bot import privacy
from bot.domain import InboundMessage, Sender, WebhookBatch
from bot.errors import StoreError
from bot.group_commit import GroupCommitter
from bot.job_catalog import (
    CHAT_STATUS,
    CONTACT_ORDER_PREFIX,
    RELAY_ECHO,
    RELAY_INBOUND,
    EchoJob,
    MessageJob,
    enqueue,
    message_job,
    number_lane,
)
from bot.store import Store, Tx
from bot.store.bulk import InboundRows, NewContact
from bot.store.mirror import insert_echo

_IDENTITY_CACHE = 4_096
"""Recent senders whose pseudonym and region are kept (~210 bytes each): the customers
who write again soon. At 50,000 this cache alone grew the bot by ~10 MiB over a soak of
100,000 conversations (issue 16: growth ≤ 10 MB)."""


EARLIEST_TIMESTAMP = 1_230_768_000
"""2009-01-01, before WhatsApp existed: an earlier message or receipt time is not real."""
LATEST_AHEAD_SECONDS = 24 * 3600.0
"""How far after its arrival a message or receipt time may lie (clock skew, generously)."""


def _timed() -> tuple[str, ...]:
    """The batch's item kinds that carry a ``timestamp``, read off the model: every one
    is checked, so a kind added later cannot slip past (echoes did: a time of 2^63 was an
    OverflowError in the store, a 503 that Meta redelivers for days)."""
    found = []
    for name, field in WebhookBatch.model_fields.items():
        item = next(iter(get_args(field.annotation)), None)
        if (
            isinstance(item, type)
            and issubclass(item, BaseModel)
            and "timestamp" in item.model_fields
        ):
            found.append(name)
    return tuple(found)


_TIMED = _timed()


def in_range(batch: WebhookBatch, received: float) -> WebhookBatch:
    """The batch with every timestamp outside [2009-01-01, arrival + 24 h] replaced by the
    arrival time, and such messages flagged as repaired; every item kind with a time
    (messages, receipts, echoes) is checked.

    A time out of that range is not the customer's, and one beyond SQLite's INTEGER cannot
    be stored at all; the arrival time is kept beside anyway (``created_at``, ``received_at``).
    """
    latest = received + LATEST_AHEAD_SECONDS
    arrival = int(received)

    def fine(item: Any) -> bool:
        timestamp: int = item.timestamp
        return EARLIEST_TIMESTAMP <= timestamp <= latest

    def repaired(item: Any) -> Any:
        update: dict[str, Any] = {"timestamp": arrival}
        if "repaired" in type(item).model_fields:
            update["repaired"] = True
        return item.model_copy(update=update)

    update = {
        name: tuple(item if fine(item) else repaired(item) for item in getattr(batch, name))
        for name in _TIMED
        if not all(fine(item) for item in getattr(batch, name))
    }
    return batch.model_copy(update=update) if update else batch


def _bulk_only(batch: WebhookBatch) -> bool:
    """Only messages, all from senders known by number: the bulk statement can store it."""
    return not (batch.statuses or batch.unsupported or batch.echoes) and all(
        m.sender.wa_id and not m.sender.user_id for m in batch.messages
    )


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
        """Persist the batch; returns counts once it is durably committed.

        Raises StoreError when the store cannot take it (the web layer answers 503)."""
        checked = in_range(batch, self._store.clock.now())
        try:
            return await self._committer.submit(checked)
        except self._store.errors as exc:
            raise StoreError(f"store unavailable ({type(exc).__name__})") from exc

    async def _commit_one(self, batch: WebhookBatch) -> IntakeResult:
        return (await self._commit_many([batch]))[0]

    async def _commit_many(self, batches: list[WebhookBatch]) -> list[IntakeResult]:
        """Each batch (one POST) is one decision, stored whole or not at all. A batch of
        messages from senders known by number only, nearly every one, takes the bulk path
        (one statement, its own transaction, one hand-off to the database thread); any
        other batch goes whole into one general transaction. Both commit before any caller
        is answered."""
        simple = [b for b in batches if _bulk_only(b)]
        general = [b for b in batches if not _bulk_only(b)]
        bulk = [m for b in simple for m in b.messages]
        new = await self._store_bulk(bulk) if bulk else set()
        counts: dict[int, tuple[int, int, int, int]] = {}
        if general:
            async with self._store.transaction() as tx:
                new |= await self._store_each(tx, [m for b in general for m in b.messages])
                for batch in general:
                    await self._store_echoes(tx, batch)
                    counts[id(batch)] = (
                        *await self._store_statuses(tx, batch),
                        *await self._store_unsupported(tx, batch),
                    )
        results = []
        for batch in batches:
            statuses, status_dups, unsupported, unsupported_dups = counts.get(
                id(batch), (0, 0, 0, 0)
            )
            fresh = 0
            for message in batch.messages:  # a wamid twice in one group counts once
                if message.provider_id in new:
                    new.remove(message.provider_id)
                    fresh += 1
            duplicates = len(batch.messages) - fresh + status_dups + unsupported_dups
            results.append(IntakeResult(fresh, statuses, duplicates, unsupported))
        return results

    async def _store_bulk(self, messages: list[InboundMessage]) -> set[str]:
        now = self._store.clock.now()
        rows = InboundRows.build(
            [(self._new_contact(m.sender), m) for m in messages], lane=number_lane
        )
        new = await self._store.store_inbound(
            rows, now=now, job_kind=RELAY_INBOUND.name, order_prefix=CONTACT_ORDER_PREFIX
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
            job = MessageJob(
                message_id=message_id, contact_id=contact_id, number_id=message.number_id
            )
            await enqueue(tx, RELAY_INBOUND, job)
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
                await enqueue(tx, CHAT_STATUS, await message_job(tx, changed))
        return new, duplicates

    async def _store_echoes(self, tx: Tx, batch: WebhookBatch) -> None:
        """Messages sent from the WhatsApp Business app: stored as the business's, then
        shown in the customer's thread (``relay.echo``)."""
        now = tx.clock.now()
        for echo in batch.echoes:
            pseudonym, region = self._identity(echo.to, echo.to)
            contact_id = await tx.contacts.upsert(
                Sender(wa_id=echo.to), pseudonym=pseudonym, region=region, now=now
            )
            message_id = await insert_echo(tx.conn, contact_id, echo, now)
            if message_id is not None:
                job = EchoJob(
                    message_id=message_id, contact_id=contact_id, number_id=echo.number_id
                )
                await enqueue(tx, RELAY_ECHO, job)

    async def _store_unsupported(self, tx: Tx, batch: WebhookBatch) -> tuple[int, int]:
        now = tx.clock.now()
        new = duplicates = 0
        for event in batch.unsupported:
            if await tx.messages.record_unsupported(event, now):
                new += 1
            else:
                duplicates += 1
        return new, duplicates
