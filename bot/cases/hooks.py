"""``CaseTransfers``: the relay's ``CaseHooks``, delivering each event to every sink as a job.

``record`` runs in the relay's transaction and only enqueues one ``case.transfer`` job per
sink, keyed ``case:<sink>:<conversation>``: transfers stay in order per conversation and sink,
while chat jobs (keyed per contact) never wait for a case system. The job builds the transfer
from the store, calls the sink, and writes the ledger row once the outcome is final.

A delivery can take up to three sink calls (open or append, then close). The case link is
saved after each successful call, so a retry after a failure in a later step does not repeat
an earlier one (no second ticket, no duplicated note).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import privacy
from bot.cases import ledger
from bot.cases.command import case_command
from bot.cases.content import TransferRequest, load_transfer
from bot.cases.model import CaseRef, CaseSink, Transfer, TransferEvent
from bot.config import PrivacySection
from bot.config.cases import CaseSinkSection
from bot.errors import CaseSinkError, ConfigError, DeliveryError
from bot.ids import ThreadId
from bot.job_catalog import CASE_TRANSFER, ErasedCaseJob, enqueue
from bot.jobs import InvalidJobPayload
from bot.ports import CaseEvent
from bot.store import Store, Tx
from bot.store.cases import CaseLinkRow
from bot.store.jobs import Job

if TYPE_CHECKING:
    from bot.media.case_files import CaseFiles
from bot.texts import Texts

log = logging.getLogger("empfang.cases")

_EVERY_MESSAGE_EVENTS: dict[str, TransferEvent] = {
    "opened": "opened",
    "message_in": "message_in",
    "message_out": "message_out",
    "closed": "closed",
}


@dataclass(frozen=True)
class TransferAlert:
    """An operational alert about a transfer that failed for good; pseudonymous.

    ``thread_id`` is the conversation's chat thread (None if it has none); ``key`` is an
    idempotency key for the chat post.
    """

    text: str
    thread_id: ThreadId | None
    key: str


AlertHook = Callable[[TransferAlert], Awaitable[object]]


def link_ref(link: CaseLinkRow) -> CaseRef:
    return CaseRef(case_id=link.case_id, label=link.case_label, thread=link.thread)


class CaseTransfers:
    """Implements ``bot.ports.CaseHooks`` for the configured sinks.

    Wire :meth:`on_dead` as the worker pool's dead-letter hook: it writes the ledger row of a
    transfer that failed for good and raises the alert through ``on_alert``.
    """

    def __init__(
        self,
        store: Store,
        sinks: Sequence[CaseSink],
        *,
        privacy: PrivacySection,
        texts: Texts,
        on_alert: AlertHook | None = None,
        files: CaseFiles | None = None,
        number_sinks: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        """``number_sinks``: the sinks (by name) of numbers that name their own
        (``[[numbers]] cases``); the others' conversations go to every sink."""
        self._number_sinks = dict(number_sinks or {})
        self._sinks: dict[str, CaseSink] = {}
        for index, sink in enumerate(sinks):
            name = sink.settings.name
            if name in self._sinks:
                raise ConfigError(f"cases[{index}].name: {name!r} is used by another sink")
            self._sinks[name] = sink
        self._store = store
        self._privacy = privacy
        self._texts = texts
        self._on_alert = on_alert
        self._files = files
        """Customers' files for sinks with ``include_media`` (None: no file source)."""

    @property
    def sinks(self) -> tuple[CaseSink, ...]:
        return tuple(self._sinks.values())

    async def aclose(self) -> None:
        for sink in self._sinks.values():
            await sink.aclose()

    # -- CaseHooks ---------------------------------------------------------------------------

    async def _sinks_of(self, tx: Tx, conversation_id: int) -> dict[str, CaseSink]:
        """The sinks of the conversation's number (every sink unless it names its own)."""
        if not self._number_sinks:
            return self._sinks
        conversation = await tx.conversations.get(conversation_id)
        names = self._number_sinks.get(conversation.number_id) if conversation else None
        if names is None:
            return self._sinks
        return {name: sink for name, sink in self._sinks.items() if name in names}

    async def record(self, tx: Tx, event: CaseEvent) -> None:
        for name, sink in (await self._sinks_of(tx, event.conversation_id)).items():
            kind = _transfer_event(sink.settings, event.kind)
            if kind is None:
                continue
            request = TransferRequest(
                transfer_id=uuid.uuid4().hex,
                sink=name,
                event=kind,
                conversation_id=event.conversation_id,
                message_id=event.message_id,
            )
            await enqueue(tx, CASE_TRANSFER, request)

    async def command(self, tx: Tx, conversation_id: int, argument: str, author: str) -> str:
        sinks = await self._sinks_of(tx, conversation_id)
        settings = {name: sink.settings for name, sink in sinks.items()}
        return await case_command(tx, settings, conversation_id, argument, author, self._texts)

    # -- the transfer job --------------------------------------------------------------------

    async def transfer(self, job: Job, request: TransferRequest) -> None:
        """``case.transfer``: one event to one sink, then its ledger row."""
        sink = self._configured(request.sink)
        async with self._store.transaction() as tx:
            if await tx.cases.ledger_has(request.transfer_id):
                return  # delivered and logged by an attempt that crashed before completing
            transfer = await load_transfer(tx, request, sink.settings, self._privacy, self._texts)
            link = await tx.cases.link(request.conversation_id, request.sink)
        if transfer is None:
            log.info("case transfer %s dropped: conversation erased", request.transfer_id)
            return
        with contextlib.ExitStack() as temporary:  # attached files live for this delivery
            if sink.settings.include_media and self._files is not None:
                transfer = await self._files.attach(transfer, temporary)
            link = await self._deliver(sink, transfer, link)
        async with self._store.transaction() as tx:
            await ledger.append(tx, _entry(transfer, request, link.case_id, job, "delivered"))
        log.info(
            "case transfer delivered: sink=%s event=%s conversation=%s attempts=%s",
            request.sink,
            request.event,
            request.conversation_id,
            job.attempts,
        )

    async def _deliver(
        self, sink: CaseSink, transfer: Transfer, link: CaseLinkRow | None
    ) -> CaseLinkRow:
        if link is None:
            ref = await sink.open_case(transfer)
            link = await self._save(sink.settings.name, transfer, link, ref)
        elif link.last_transfer != transfer.transfer_id:
            ref = await sink.append(link_ref(link), transfer)
            link = await self._save(sink.settings.name, transfer, link, ref)
        if transfer.closes and not link.closed:
            await sink.close(link_ref(link))
            link = await self._save(sink.settings.name, transfer, link, link_ref(link), True)
        return link

    async def _save(
        self,
        sink: str,
        transfer: Transfer,
        link: CaseLinkRow | None,
        ref: CaseRef,
        closed: bool = False,
    ) -> CaseLinkRow:
        async with self._store.transaction() as tx:
            saved = CaseLinkRow(
                conversation_id=transfer.conversation_id,
                sink=sink,
                case_id=ref.case_id,
                case_label=ref.label,
                thread=ref.thread,
                last_transfer=transfer.transfer_id,
                closed=closed or (link.closed if link else False),
                linked_by=link.linked_by if link else None,
                updated_at=tx.clock.now(),
            )
            await tx.cases.save_link(saved)
        return saved

    # -- erasure -----------------------------------------------------------------------------

    def _configured(self, name: str) -> CaseSink:
        sink = self._sinks.get(name)
        if sink is None:
            raise CaseSinkError(f"case system {name!r} is no longer configured", retryable=False)
        return sink

    async def erased(self, job: Job, request: ErasedCaseJob) -> None:
        """``case.erased``: the case system hears that the person was erased, on the case it
        holds for them (an ``erased`` transfer without messages: a webhook event, a Zammad
        note, an e-mail asking the helpdesk to erase its copy; the JSONL archive drops their
        lines). Built from the job alone: the store has nothing of the person any more."""
        sink = self._configured(request.sink)
        async with self._store.transaction() as tx:
            if await tx.cases.ledger_has(request.transfer_id):
                return
            now = tx.clock.now()
        transfer = Transfer(
            transfer_id=request.transfer_id,
            event="erased",
            conversation_id=request.conversation_id,
            requester=request.requester,
            opened_at=request.opened_at,
            occurred_at=now,
            categories=("pseudonym",),
        )
        ref = CaseRef(case_id=request.case_id, label=request.label, thread=request.thread)
        await sink.append(ref, transfer)
        async with self._store.transaction() as tx:
            entry = ledger.LedgerEntry(
                transfer_id=request.transfer_id,
                pseudonym=request.requester,
                sink=request.sink,
                case_id=request.case_id,
                event="erased",
                categories=transfer.categories,
                outcome="delivered",
                attempts=job.attempts,
            )
            await ledger.append(tx, entry)

    # -- dead letters ------------------------------------------------------------------------

    async def on_dead(self, job: Job, reason: str) -> None:
        """Dead-letter hook: log the failed transfer in the ledger, then alert (pseudonymous)."""
        if job.kind != CASE_TRANSFER.name:
            return
        try:
            request = CASE_TRANSFER.parse(job)
        except InvalidJobPayload:
            log.error("dead case transfer job %s has a payload this version cannot read", job.id)
            return
        sink = self._sinks.get(request.sink)
        settings = sink.settings if sink else CaseSinkSection(name=request.sink)
        async with self._store.transaction() as tx:
            transfer = await load_transfer(tx, request, settings, self._privacy, self._texts)
            link = await tx.cases.link(request.conversation_id, request.sink)
            conversation = await tx.conversations.get(request.conversation_id)
            row = None
            if transfer is not None:
                case_id = link.case_id if link else None
                entry = _entry(transfer, request, case_id, job, "dead_lettered")
                row = await ledger.append(tx, entry)
        texts = self._texts
        alert = TransferAlert(
            text=texts.case_transfer_failed.format(
                event=request.event,
                who=transfer.requester if transfer else texts.case_erased_conversation,
                sink=request.sink,
                attempts=job.attempts,
                reason=privacy.redact_text(reason),
                job=job.id,
                where=texts.case_ledger_row.format(row=row.id) if row else "",
            ),
            thread_id=conversation.thread_id if conversation else None,
            key=f"case-dead-{request.transfer_id}",
        )
        if self._on_alert is None:
            log.error("no alert hook configured: %s", alert.text)
            return
        try:
            await self._on_alert(alert)
        except DeliveryError as error:
            log.error("case transfer alert could not be posted: %s", type(error).__name__)


def _transfer_event(settings: CaseSinkSection, kind: str) -> TransferEvent | None:
    """Which transfer (if any) a relay event means for a sink of this ``transfer`` mode."""
    if settings.transfer == "transcript":
        return "transcript" if kind == "closed" else None
    event = _EVERY_MESSAGE_EVENTS.get(kind)
    if event is None:
        log.warning("case event %r is unknown; not transferred", kind)
    return event


def _entry(
    transfer: Transfer,
    request: TransferRequest,
    case_id: str | None,
    job: Job,
    outcome: ledger.Outcome,
) -> ledger.LedgerEntry:
    return ledger.LedgerEntry(
        transfer_id=request.transfer_id,
        pseudonym=transfer.requester,
        sink=request.sink,
        case_id=case_id,
        event=request.event,
        categories=transfer.categories,
        outcome=outcome,
        attempts=job.attempts,
    )
