"""The one place where the relay, on-call, case transfers and the job workers are joined.

``bot.app`` calls :func:`wire_relay` for ``empfang run``, and the test desks call it too, so
the suite runs the production composition (which job kind goes to which handler, which
hooks see a conversation's events, who hears of a dead letter), never a copy of it. What
differs between the two is only what is passed in: the chat platform, the WhatsApp
provider, the case sinks and the clock inside the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot import job_catalog as kinds
from bot.alerts.monitor import MonitoredChat
from bot.alerts.oncall import OnCall
from bot.alerts.paging import Pager
from bot.cases.hooks import CaseTransfers
from bot.cases.model import CaseSink
from bot.chat_removal import ChatRemoval
from bot.config import Settings
from bot.jobs import JobHandler, RetryPolicy, WorkerPool
from bot.media.case_files import CaseFiles
from bot.media.inbound import CustomerMedia, CustomerMediaSource
from bot.media.keep import MediaKeeper, kept_folder
from bot.media.outbound import AgentFileSender
from bot.media.spool import Spool, spool_folder
from bot.ports import ChatPlatform, TemplateProvider, WhatsAppProvider
from bot.relay import LatencyObserver, Relay, RelayPolicy
from bot.retention import RetentionPurge
from bot.routing import ChatTarget, Rooms, number_names
from bot.store import Store
from bot.store.jobs import Job
from bot.texts import Texts


def relay_handlers(relay: Relay) -> dict[str, JobHandler]:
    """The relay's job kinds bound to its handlers, each in the room of its conversation
    (``bot.job_rooms``; the echo and the customer's message find theirs themselves)."""
    message, conversation = relay.job_rooms.by_message, relay.job_rooms.by_conversation
    handlers = dict(
        [
            kinds.RELAY_INBOUND.bind(relay.post_inbound),
            kinds.RELAY_OUTBOUND.bind(message(relay.send_outbound)),
            kinds.RELAY_OUTBOUND_FILE.bind(message(relay.send_file)),
            kinds.RELAY_MEDIA.bind(message(relay.post_media)),
            kinds.CHAT_STATUS.bind(message(relay.show_status)),
            kinds.CHAT_NOTICE.bind(conversation(relay.post_notice)),
            kinds.CHAT_ROOT.bind(conversation(relay.update_root)),
            kinds.CHAT_REVEAL.bind(conversation(relay.reveals.show)),
            kinds.CHAT_WITHDRAW.bind(relay.reveals.withdraw),
            kinds.RELAY_REACTION.bind(relay.reactions.send),
            kinds.RELAY_ECHO.bind(relay.post_echo),
            kinds.CHAT_TEMPLATES.bind(conversation(relay.catalogue.post_listing)),
            kinds.CHAT_TEMPLATE.bind(message(relay.templates.show)),
            kinds.RELAY_TEMPLATE.bind(relay.send_template),
            kinds.CHAT_WINDOW.bind(conversation(relay.window.window_due)),
        ]
    )
    return handlers


def job_handlers(
    relay: Relay,
    oncall: OnCall,
    cases: CaseTransfers | None,
    purge: RetentionPurge,
    removal: ChatRemoval,
) -> dict[str, JobHandler]:
    """Every job kind of ``bot.job_catalog`` bound to the handler that runs it."""
    handlers = relay_handlers(relay)
    rooms = relay.job_rooms
    handlers.update(
        [
            kinds.ALERT_SLA.bind(rooms.by_conversation(oncall.sla_due)),
            kinds.ALERT_WINDOW.bind(rooms.by_conversation(oncall.window_due)),
            kinds.ALERT_POST.bind(rooms.by_conversation(oncall.post_alert)),
            kinds.ALERT_PAGE.bind(oncall.page),
            kinds.RETENTION_PURGE.bind(purge.run_batch),
            kinds.CHAT_REMOVE.bind(removal.remove),
            kinds.CHAT_REMOVE_POSTS.bind(removal.remove_posts),
        ]
    )
    if cases is not None:
        handlers.update(
            [
                kinds.CASE_TRANSFER.bind(rooms.by_conversation(cases.transfer)),
                kinds.CASE_ERASED.bind(cases.erased),
            ]
        )
    return handlers


def chat_rooms(settings: Settings) -> Rooms:
    """Where each number's threads go (``[[numbers]]``), the global room of ``[chat]
    platform`` for the rest (of the first number's platform when no number uses ``[chat]
    platform``: only that one runs)."""
    numbers = settings.configured_numbers()
    platform = settings.chat.platform
    if all(number.platform != platform for number in numbers):
        platform = numbers[0].platform
    default = ChatTarget(platform, settings.number_defaults().rooms.get(platform, ""))
    return Rooms(numbers, default)


@dataclass(frozen=True)
class RelayStack:
    """What relays between WhatsApp and the chat, built by :func:`wire_relay`.

    ``chat`` is the platform as the relay sees it: watched by on-call for outages.
    """

    relay: Relay
    oncall: OnCall
    cases: CaseTransfers | None
    chat: ChatPlatform
    workers: WorkerPool
    purge: RetentionPurge
    removal: ChatRemoval

    async def start(self, *, leading: bool = True) -> None:
        """Listen to agents, then drain the queue. A follower replica (``leading=False``,
        ``bot.ha``) connects to the chat to post and runs jobs like every replica; the
        leader's part (agents' events, the singletons) is :meth:`start_leading`'s."""
        await self.chat.start(self.relay.on_agent_event if leading else None)
        if self.relay.media is not None:
            await self.relay.media.clean_up()  # this replica's own spool
        if leading:
            await self._start_singletons()
        self.workers.start()

    async def start_leading(self) -> None:
        """This follower became the leader: receive agents' events, run the singletons."""
        await self.chat.start(self.relay.on_agent_event)
        await self._start_singletons()

    async def stop_leading(self) -> None:
        """The lead is lost: stop the singletons and the events' intake; keep posting (the
        chat connection is made anew without the intake)."""
        await self.relay.catalogue.stop()
        await self.chat.stop()
        await self.chat.start(None)

    async def _start_singletons(self) -> None:
        """What one process of all runs: the purge's schedule, the template refresh."""
        await self.purge.ensure_scheduled()
        self.relay.catalogue.start()

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Let running jobs finish, then close on-call's and the case systems' clients."""
        await self.workers.stop(drain_seconds)
        await self.relay.catalogue.stop()
        if self.cases is not None:
            await self.cases.aclose()
        await self.oncall.aclose()
        await self.chat.stop()


def wire_relay(
    store: Store,
    settings: Settings,
    *,
    chat: ChatPlatform,
    whatsapp: WhatsAppProvider,
    texts: Texts,
    allowed_users: frozenset[str] = frozenset(),
    allowed_by_platform: Mapping[str, frozenset[str]] | None = None,
    sinks: Sequence[CaseSink] = (),
    post_latency: LatencyObserver | None = None,
    files: AgentFileSender | None = None,
    media_source: CustomerMediaSource | None = None,
    templates: TemplateProvider | None = None,
) -> RelayStack:
    """The relay with on-call watching it, case transfers for ``sinks`` (alerting in the
    chat when one fails for good) and the worker pool that runs all their jobs. With a
    ``media_source`` customers' files are shown in the thread, else only their lines."""
    rooms = chat_rooms(settings)
    oncall = OnCall(
        store,
        chat,
        settings.alerts,
        settings.business_hours,
        texts=texts,
        first_contact_notice=settings.privacy.first_contact_notice,
        pager=Pager(settings.alerts.webhook),
        rooms=rooms,
        number_hours={
            number.number_id: number.business_hours
            for number in settings.configured_numbers()
            if number.business_hours is not None
        },
    )
    watched = MonitoredChat(
        chat,
        oncall,
        store.clock,
        settings.alerts.platform_down_after,
        default_platform=rooms.default.platform,
    )
    jobs = settings.jobs
    retry = RetryPolicy(
        jobs.max_attempts, jobs.backoff_base_seconds, jobs.backoff_max_seconds, jobs.outage_patience
    )
    media = None
    if media_source is not None:
        media = customer_media(store, settings, watched, media_source, texts, retry)
    cases = None
    if sinks:
        cases = CaseTransfers(
            store,
            sinks,
            privacy=settings.privacy,
            texts=texts,
            on_alert=lambda alert: watched.alert(
                alert.text, thread_id=alert.thread_id, key=alert.key
            ),
            files=CaseFiles(store, media, settings.privacy) if media is not None else None,
            number_sinks={
                number.number_id: number.cases
                for number in settings.configured_numbers()
                if number.cases is not None
            },
        )
    relay = Relay(
        store,
        watched,
        whatsapp,
        RelayPolicy(
            privacy=settings.privacy,
            texts=texts,
            allowed_users=allowed_users,
            allowed_by_platform=allowed_by_platform or {},
            timezone=settings.business_hours.timezone,
            reengage_template=settings.whatsapp.reengage_template,
            templates_refresh=settings.whatsapp.templates_refresh,
            first_number=settings.configured_numbers()[0].number_id,
            number_names=number_names(settings.configured_numbers()),
            reply_modes={n.number_id: n.reply_mode for n in settings.configured_numbers()},
            rooms=rooms,
        ),
        cases=cases,
        observers=[oncall],
        operations=oncall,
        post_latency=post_latency,
        files=files,
        media=media,
        templates=templates,
    )

    async def on_dead(job: Job, reason: str) -> None:
        """The case ledger records a failed transfer; on-call hears of every dead letter."""
        if cases is not None:
            await cases.on_dead(job, reason)
        await oncall.dead_lettered(job, reason)

    purge = RetentionPurge(store, settings.retention, watched, rooms=rooms)
    removal = ChatRemoval(store, watched, texts)
    workers = WorkerPool(
        store,
        job_handlers(relay, oncall, cases, purge, removal),
        workers=jobs.workers,
        lease_seconds=jobs.lease_seconds,
        policy=retry,
        on_dead=on_dead,
        outages=oncall,
    )
    return RelayStack(relay, oncall, cases, watched, workers, purge, removal)


def customer_media(
    store: Store,
    settings: Settings,
    chat: ChatPlatform,
    source: CustomerMediaSource,
    texts: Texts,
    retry: RetryPolicy,
) -> CustomerMedia:
    """The ``relay.media`` job with ``[media]``'s limits, the spool beside the store and,
    with ``keep_days``, the folder of kept copies; it gives up on a download when the
    workers would (``retry``), and explains that in the thread."""
    data = Path(settings.store.path)
    keep_days = settings.media.keep_days
    return CustomerMedia(
        store,
        chat,
        source,
        limits=settings.media.limits(),
        spool=Spool(spool_folder(data)),
        texts=texts,
        privacy=settings.privacy,
        retry=retry,
        keeper=MediaKeeper(kept_folder(data), keep_days, store.clock) if keep_days else None,
    )
