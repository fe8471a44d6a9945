"""The use cases: customer message → thread, agent reply → customer, receipt → thread.

The relay knows no platform: it talks to ``ChatPlatform`` and ``WhatsAppProvider`` and keeps
every rule (who may reply, what is a command, what a failure means) here. Every outgoing
call runs inside a durable job; agent events are stored (with their jobs) before the
handler returns.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot import batching, explain, render
from bot.commands import parse
from bot.config import PrivacySection
from bot.domain import RELATION_KINDS, DeliveryStatus, InboundMessage
from bot.errors import DeliveryError, MediaRefused, PlatformError, ProviderError, TokenInvalid
from bot.explain import MEDIA_UPLOAD_ERROR
from bot.ids import ChatMessageId, ProviderMessageId, ThreadId, WaId
from bot.job_catalog import (
    CHAT_NOTICE,
    CHAT_ROOT,
    CHAT_STATUS,
    CHAT_TEMPLATES,
    RELAY_OUTBOUND,
    RELAY_OUTBOUND_FILE,
    ConversationJob,
    EchoJob,
    FileJob,
    MediaJob,
    MessageJob,
    NoticeJob,
    enqueue,
)
from bot.job_rooms import JobRooms
from bot.jobs import UnrunnableJob
from bot.legal_hold import place_hold, release_hold
from bot.media.inbound import CustomerMedia
from bot.media.names import mask_filename
from bot.media.outbound import (
    AgentFileSender,
    declared_type,
    file_intent,
    refusal,
    whatsapp_kind,
)
from bot.mirror.agent import AgentReactions
from bot.mirror.buttons import parse_buttons
from bot.mirror.customer import CustomerMirror
from bot.mirror.outbound import OutboundExtras
from bot.objection import Objections, needs_reply_note
from bot.ports import (
    AgentAction,
    AgentEvent,
    AgentMessage,
    AgentReaction,
    CaseEvent,
    CaseHooks,
    ChatPlatform,
    TemplateProvider,
    TemplateRequest,
    ThreadRoot,
    WhatsAppProvider,
)
from bot.reveal import Reveals
from bot.routing import GLOBAL_ROOM, Rooms, chatting_at, inbound_number, sending_from
from bot.signing import signed
from bot.store import Store, Tx
from bot.store.contacts import ContactRow
from bot.store.conversations import ConversationRow
from bot.store.jobs import Job
from bot.store.messages import MessageRow
from bot.store.queue_view import QueueView
from bot.templates import window
from bot.templates.catalogue import TemplateCatalogue
from bot.templates.sending import Asker, TemplateSends, Wanted
from bot.texts import Texts

log = logging.getLogger("empfang.relay")

ROOT_REFRESH_SECONDS = 1800.0
"""A customer message this long after the previous one re-renders the root (window time)."""
LATE_LOOKAHEAD = 100
"""How many queued messages of one conversation are compared to find the first-written."""


Sender = Callable[[ContactRow, WaId, str], Awaitable[ProviderMessageId]]
"""Sends a stored outbound message (its body) to the contact; the provider's message id."""


class ConversationObserver(Protocol):
    """Reacts to conversation events inside the relay's transaction (e.g. SLA timers)."""

    async def record(self, tx: Tx, event: CaseEvent) -> None: ...


class OperationalAlerts(Protocol):
    """Tells on-call once when something breaks, and again when it works again."""

    async def raise_alert(self, kind: str, summary: str) -> None: ...

    async def clear_alert(self, kind: str, summary: str) -> None: ...


class LatencyObserver(Protocol):
    """Takes durations in seconds (a Prometheus histogram, ``bot.metrics``)."""

    def observe(self, amount: float) -> None: ...


@dataclass(frozen=True)
class _Taken:
    """What a ``relay.inbound`` job read and wrote before posting (``Relay._take_in``)."""

    row: MessageRow
    posts_for: int | None
    """The queued job whose message ``row`` is, when not the job's own."""
    contact: ContactRow
    conversation: ConversationRow
    newest_shown: int | None
    may_carry: bool
    """Whether the post may carry riders (``bot.batching.ready``)."""


@dataclass(frozen=True)
class _Posted:
    """What a ``relay.inbound`` job posted, for its last transaction."""

    row: MessageRow
    riders: list[MessageRow]
    chat_id: ChatMessageId
    number_id: str
    posts_for: int | None


@dataclass(frozen=True)
class RelayPolicy:
    """Who may answer customers, and how replies are recognised."""

    privacy: PrivacySection
    texts: Texts
    """What the relay writes into threads, in the language of ``[ui] language``."""
    allowed_users: frozenset[str] = frozenset()
    allowed_by_platform: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Each platform's own allow-list (``[matrix]``/``[slack] allowed_users``), when both
    run in one process; ``allowed_users`` for a platform not in it."""
    timezone: str = "UTC"
    """Where times in the thread root are shown (``[business_hours] timezone``)."""
    reengage_template: str = ""
    """What a closed 24-hour window suggests (``[whatsapp] reengage_template``)."""
    templates_refresh: float = 3600.0
    """How often the template catalogue is read (``[whatsapp] templates_refresh``)."""
    first_number: str = ""
    """The first configured business number: messages and echoes stored before numbers
    were recorded were written to it (``bot.routing``)."""
    number_names: Mapping[str, str] = field(default_factory=dict)
    """What the root calls each business number, when several are configured."""
    reply_modes: Mapping[str, str] = field(default_factory=dict)
    """Each business number's ``reply_mode``; ``privacy.reply_mode`` for any other."""
    rooms: Rooms = field(default_factory=lambda: Rooms((), GLOBAL_ROOM))
    """Where each conversation's thread is (``bot.routing``); one global room by default."""

    def reply_mode(self, number_id: str) -> str:
        """Whether an agent's plain message in this number's threads is sent."""
        return self.reply_modes.get(number_id, self.privacy.reply_mode)


class Relay:
    def __init__(
        self,
        store: Store,
        chat: ChatPlatform,
        whatsapp: WhatsAppProvider,
        policy: RelayPolicy,
        *,
        cases: CaseHooks | None = None,
        observers: Sequence[ConversationObserver] = (),
        operations: OperationalAlerts | None = None,
        post_latency: LatencyObserver | None = None,
        files: AgentFileSender | None = None,
        media: CustomerMedia | None = None,
        templates: TemplateProvider | None = None,
    ) -> None:
        self._store = store
        self._files = files
        self.media = media
        """Customers' files into the thread (``relay.media``), when set up; bound in
        ``bot.wiring``."""
        self._cases = cases
        self._chat = chat
        self._whatsapp = whatsapp
        self._policy = policy
        self._rooms = policy.rooms
        self.job_rooms = JobRooms(store, policy.rooms, policy.first_number)
        """Binds job handlers to their conversation's room (``bot.wiring``)."""
        self.window = window.WindowWatch(store)
        """Shows a closed 24-hour window on the root (``chat.window``)."""
        self._observers = (*observers, self.window)
        self._operations = operations
        self._post_latency = post_latency
        self._objections = Objections(policy.privacy, policy.texts)
        self.reveals = Reveals(store, chat, policy.privacy, policy.texts, policy.timezone)
        """``!reveal``; its job handlers are bound in ``bot.wiring``."""
        self.mirror = CustomerMirror(store, chat, policy.privacy, policy.texts)
        """Customers' reactions, replies, edits and deletes shown in the thread."""
        self.reactions = AgentReactions(
            store,
            whatsapp,
            policy.texts,
            may_act=self._may_act,
            notify=self._enqueue_notice,
            rooms=self._rooms,
        )
        """Agents' reactions sent to WhatsApp; its job handler is bound in ``bot.wiring``."""
        self._extras = OutboundExtras(store, whatsapp)
        self.templates = TemplateSends(
            store, chat, templates, policy.privacy, policy.texts, self._key
        )
        """``!template`` and Slack's template form; job handlers bound in ``bot.wiring``."""
        self.catalogue = TemplateCatalogue(
            store, templates, chat, policy.texts, self._key, every=policy.templates_refresh
        )
        """The template catalogue, read at start and every ``templates_refresh``."""

    def _key(self, name: str) -> str:
        """An idempotency key for the chat platform, unique across databases."""
        return f"{self._store.instance_id}:{name}"

    async def _record(
        self, tx: Tx, kind: str, conversation_id: int, message_id: int | None
    ) -> None:
        event = CaseEvent(kind=kind, conversation_id=conversation_id, message_id=message_id)
        if kind == "message_in" and message_id is not None:  # first: STOP silences on-call
            await self._objections.customer_wrote(tx, conversation_id, message_id)
        if self._cases is not None:
            await self._cases.record(tx, event)
        for observer in self._observers:
            await observer.record(tx, event)

    # -- customer → thread -------------------------------------------------------------------

    async def post_inbound(self, job: Job, payload: MessageJob) -> None:
        """``relay.inbound``: the customer's message (and any riders) into the thread.

        Each job posts the queued message the customer wrote first, which is not always its
        own: a webhook Meta redelivers after an outage is queued behind lines written after
        it. The number of jobs still matches the number of messages, so every one is posted.

        Its store work is two or three transactions, each one hand-off to the store's
        thread (``Store.transact``): take the message in, take riders (a paced platform),
        record the post with the end of the job. Only the riders are always synced to disk
        (the post's content depends on which were taken); the take-in only when a thread
        is opened next (see :meth:`_take_in_room`).
        """
        taken = await self._store.transact(
            lambda tx: self._take_in(tx, job, payload.message_id), durable=False
        )
        if taken is None:
            return  # purged meanwhile, or posted by an earlier attempt
        row, contact, conversation = taken.row, taken.contact, taken.conversation
        message_id = row.id
        with self._rooms.chatting_for(conversation):  # the row's, not the job's message's
            thread_id = conversation.thread_id or await self._open_thread(conversation, contact)
            key = self._key(f"in-{message_id}")
            if row.kind in RELATION_KINDS:  # shown on the message it refers to (bot.mirror)
                riders: list[MessageRow] = []
                chat_id = await self.mirror.show(thread_id, row, contact, key=key)
            else:
                riders = await self._riders(job, row, conversation.id, thread_id, taken.may_carry)
                masker = render.Masker.for_contact(contact, self._policy.privacy)
                messages = sorted(
                    (posted.inbound(contact.sender) for posted in [row, *riders]),
                    key=lambda message: message.timestamp,
                )
                lines = [self._line(message, masker, taken.newest_shown) for message in messages]
                chat_id = await self.mirror.post(thread_id, messages, lines, contact, key=key)
        self._observe_post_latency([row, *riders])
        posted = _Posted(row, riders, chat_id, conversation.number_id, taken.posts_for)
        await self._store.transact(
            lambda tx: self._record_post(tx, job, payload, posted), durable=False
        )

    async def _take_in(self, tx: Tx, job: Job, message_id: int) -> _Taken | None:
        """The message this job posts, assigned to its (perhaps new) conversation, with what
        posting it needs; None when there is nothing left to post. Store work only, in the
        room of the job's message (what ``JobRooms.by_message`` would have read in a
        transaction of its own)."""
        own, target = await self.job_rooms.of_message(tx, message_id)
        with chatting_at(target):
            return await self._take_in_room(tx, job, message_id, own)

    async def _take_in_room(
        self, tx: Tx, job: Job, message_id: int, own: MessageRow | None
    ) -> _Taken | None:
        """Committed without waiting for the disk, unless the conversation has no thread
        yet: the thread about to be opened is keyed by the conversation's id, which must not
        be lost with the power and given again to another conversation. Into an existing
        thread a lost take-in is one not done yet: a power loss drops a suffix of the
        commits (the WAL is sequential, and the next synced commit, e.g. the intake's, syncs
        it along), so the job runs again on the state from before it (its lease and its
        post record, later commits, are gone too), finds the same open conversation and
        thread, and posts under the same key (``in-<message id>``), which finds the post
        made before the loss; its timers are set again from a later now, as after a crash
        before its commit. A ``kill -9`` loses nothing of it (the WAL is written when the
        commit returns)."""
        row, posts_for = await self._next_in_line(tx, job, message_id, own)
        if row is None:
            return None
        contact = await tx.contacts.get(row.contact_id)
        assert contact is not None
        if row.conversation_id is None:
            number = inbound_number(row.body, self._policy.first_number)
            conversation, new = await tx.conversations.ensure_open(
                contact.id, tx.clock.now(), number_id=number
            )
            await tx.messages.assign(row.id, conversation.id)
            if new:
                await self._record(tx, "opened", conversation.id, None)
            if row.kind not in RELATION_KINDS:  # a 👍, an edit, a delete: no new question
                await self._record(tx, "message_in", conversation.id, row.id)
        else:
            found = await tx.conversations.get(row.conversation_id)
            assert found is not None
            conversation = found
        now = tx.clock.now()
        await tx.conversations.touch_customer(conversation.id, now)
        previous = conversation.last_customer_at
        if conversation.thread_id and previous and now - previous > ROOT_REFRESH_SECONDS:
            await self._enqueue_root(tx, conversation)  # the window moved: show it
        refreshed = await tx.conversations.get(conversation.id)
        assert refreshed is not None
        if refreshed.thread_id is None:
            await tx.conn.sync_at_commit()
        newest_shown = await tx.messages.newest_posted_time(conversation.id)
        may_carry = await batching.may_carry(tx, self._chat, job, refreshed.thread_id is not None)
        return _Taken(row, posts_for, contact, refreshed, newest_shown, may_carry)

    async def _record_post(self, tx: Tx, job: Job, payload: MessageJob, posted: _Posted) -> None:
        """The post's chat id on its messages, their files queued, and the end of the job:
        one commit, not synced to disk (lost with the power, the job posts again under the
        same key and finds its post, as after a crash before this commit). Store work only."""
        await tx.messages.set_chat_id(posted.row.id, posted.chat_id)
        await batching.record(tx, posted.riders, posted.chat_id)
        if self.media is not None:  # the files after their lines, in a queue of their own
            await self.media.enqueue(tx, [posted.row, *posted.riders], posted.number_id)
        if posted.posts_for is not None:  # that job (same order) now posts the one passed over
            await tx.jobs.set_payload(posted.posts_for, payload.model_dump_json())
        await tx.jobs.complete(job)  # with the post recorded: one commit, not two

    async def _next_in_line(
        self, tx: Tx, job: Job, message_id: int, own: MessageRow | None
    ) -> tuple[MessageRow | None, int | None]:
        """The message this job posts, and the queued job whose message that is (None: its
        own, ``own`` as read). On a platform that posts one message at a time it is the
        first-written of the messages queued together; the job it is taken from then posts
        this job's message, so jobs and unposted messages stay one to one. A combined post
        (``bot.batching``) is sorted by itself, and a head other than the job's own would
        break its riders."""
        if self._chat.capabilities.combine_waiting > 1 or job.order_key is None:
            return (own if own is not None and own.chat_id is None else None), None
        queued = await QueueView(tx.conn).jobs_behind(
            job.order_key, job.id, job.kind, LATE_LOOKAHEAD
        )
        if not queued:  # the usual case: its own message, as read, without reading it again
            return (own if own is not None and own.unposted else None), None
        row = await tx.messages.earliest_unposted([message_id, *(m for _, m in queued)])
        if row is None or row.id == message_id:
            return row, None
        return row, next(queued_job for queued_job, m in queued if m == row.id)

    def _line(
        self, message: InboundMessage, masker: render.Masker, newest_shown: int | None
    ) -> str:
        texts = self._policy.texts
        line = render.inbound(message, masker, texts)
        if newest_shown is None or message.timestamp >= newest_shown:
            return line
        return render.sent_late(
            line, message.timestamp, texts, self._policy.timezone, self._store.clock.now()
        )

    def _observe_post_latency(self, posted: list[MessageRow]) -> None:
        """Webhook → chat post, per customer message: what a customer's wait for an agent
        starts with. Measured on the store's clock, which stamped ``created_at`` at intake."""
        if self._post_latency is None:
            return
        now = self._store.clock.now()
        for message in posted:
            self._post_latency.observe(max(0.0, now - message.created_at))

    async def _riders(
        self,
        job: Job,
        head: MessageRow,
        conversation_id: int,
        thread_id: ThreadId,
        may_carry: bool,
    ) -> list[MessageRow]:
        """Combining (``bot.batching``): on a paced platform, wait for the posting slot,
        then take the customer messages queued right behind ``head`` into its post."""
        limit = await batching.ready(self._chat, thread_id, may_carry=may_carry)
        if limit <= 1:
            return []
        return await self._store.transact(
            lambda tx: batching.riders(
                tx,
                job,
                head,
                conversation_id,
                limit=limit,
                on_join=lambda tx, rider: self._record(tx, "message_in", conversation_id, rider),
            )
        )

    # -- agent → customer --------------------------------------------------------------------

    async def on_agent_event(self, event: AgentEvent) -> str | None:
        """Store what an agent did and enqueue its effects; called by the chat adapter.
        Returns a text for the author alone (see ``AgentEventHandler``)."""
        if isinstance(event, AgentAction):
            return await self._on_action(event)
        if isinstance(event, AgentReaction):
            await self.reactions.on_reaction(event)
            return None
        if isinstance(event, TemplateRequest):
            await self._on_template_request(event)
            return None
        await self._on_message(event)
        return None

    async def _on_template_request(self, request: TemplateRequest) -> None:
        """Slack's template form, judged like a typed ``!template``; answers go to the
        thread, where the send shows up too."""
        async with self._store.transaction() as tx:
            conversation = await self._conversation_at(tx, request.thread_id, request.room_id)
            if conversation is None:
                log.info("ignored template request: thread is not a customer conversation")
                return
            texts = self._policy.texts
            answer: str | None
            if not self._may_act(request):
                log.warning("refused template request: author is not allowed")
                answer = texts.refused_reply.format(author=request.author_name)
            elif not conversation.is_open:
                answer = texts.conversation_closed
            else:
                wanted = Wanted(request.name, request.language, list(request.parameters))
                asker = Asker(request.request_id, request.author_id, request.author_name)
                answer = await self.templates.queue(tx, conversation, wanted, asker)
            if answer is not None:
                await self._enqueue_notice(tx, conversation, answer)

    async def _on_message(self, event: AgentMessage) -> None:
        if event.author_is_self or event.author_is_bot:
            log.debug("ignored chat message %s: written by a bot", event.chat_id)
            return
        if event.edit_of is not None:
            await self._on_edit(event)
            return
        if event.thread_id is None:
            log.info("ignored chat message %s: not in a thread", event.chat_id)
            return
        async with self._store.transaction() as tx:
            conversation = await self._conversation_at(tx, event.thread_id, event.room_id)
            if conversation is None:
                log.info(
                    "ignored chat message %s: thread is not a customer conversation", event.chat_id
                )
                return
            with self._rooms.chatting_for(conversation):  # what the platform offers there
                await self._on_thread_message(tx, conversation, event)

    async def _on_thread_message(
        self, tx: Tx, conversation: ConversationRow, event: AgentMessage
    ) -> None:
        if not self._may_act(event):
            log.warning(
                "refused reply %s: author is not allowed to answer customers", event.chat_id
            )
            await self._enqueue_notice(
                tx,
                conversation,
                self._policy.texts.refused_reply.format(author=event.author_name),
            )
            return
        reply_mode = self._policy.reply_mode(conversation.number_id)
        parsed = (
            file_intent(event.text, reply_mode=reply_mode)
            if event.files
            else parse(event.text, reply_mode=reply_mode)
        )
        if parsed.intent in ("note", "ignore"):
            return
        if parsed.intent == "help":
            await self._enqueue_notice(tx, conversation, self._policy.texts.help)
            return
        if parsed.intent == "unknown":
            await self._enqueue_notice(
                tx,
                conversation,
                self._policy.texts.unknown_command.format(command=parsed.text),
            )
            return
        if parsed.intent == "close":
            await self._close(tx, conversation, event.author_name)
            return
        if parsed.intent in ("hold", "release"):
            texts = self._policy.texts
            answer = (
                await place_hold(
                    tx, conversation, parsed.text, event.author_id, event.author_name, texts
                )
                if parsed.intent == "hold"
                else await release_hold(tx, conversation, event.author_id, event.author_name, texts)
            )
            await self._enqueue_notice(tx, conversation, answer)
            return
        if parsed.intent == "reveal":
            answer = await self.reveals.request(tx, conversation, event, parsed.text)
            await self._enqueue_notice(tx, conversation, answer)
            return
        if parsed.intent == "case":
            answer = self._policy.texts.no_case_system
            if self._cases is not None:
                answer = await self._cases.command(
                    tx, conversation.id, parsed.text, event.author_name
                )
            await self._enqueue_notice(tx, conversation, answer)
            return
        if parsed.intent == "templates":
            listing = ConversationJob(
                conversation_id=conversation.id,
                contact_id=conversation.contact_id,
                number_id=conversation.number_id,
            )
            await enqueue(tx, CHAT_TEMPLATES, listing)
            return
        if not conversation.is_open:
            await self._enqueue_notice(
                tx,
                conversation,
                self._policy.texts.conversation_closed,
            )
            return
        if parsed.intent == "template":
            asker = Asker(event.chat_id, event.author_id, event.author_name)
            refused = await self.templates.command(tx, conversation, parsed.text, asker)
            if refused is not None:
                await self._enqueue_notice(tx, conversation, refused)
            return
        if window.is_closed(conversation, tx.clock.now()):  # only templates go now
            await self._enqueue_notice(tx, conversation, self._window_refusal(conversation))
            return
        buttons = None
        if parsed.intent == "buttons":
            checked = parse_buttons(parsed.text, self._policy.texts)
            if isinstance(checked, str):
                await self._enqueue_notice(tx, conversation, checked)
                return
            buttons = checked
        contact = await tx.contacts.get(conversation.contact_id)
        if contact is not None and needs_reply_note(contact, conversation):
            await self._enqueue_notice(tx, conversation, self._policy.texts.objection_reply_note)
        now = tx.clock.now()
        if event.files:
            if not await self._store_files(tx, conversation, event, parsed.text):
                return
        else:
            message_id = await tx.messages.insert_outbound(
                contact_id=conversation.contact_id,
                conversation_id=conversation.id,
                chat_id=event.chat_id,
                body=signed(
                    buttons.text if buttons else parsed.text,
                    event.author_name,
                    self._policy.privacy,
                ),
                author=event.author_id,
                now=now,
            )
            if message_id is None:
                return  # the platform delivered this event before
            await self._extras.record(tx, message_id, conversation, event, buttons)
            job = MessageJob(
                message_id=message_id,
                contact_id=conversation.contact_id,
                number_id=conversation.number_id,
            )
            await enqueue(tx, CHAT_STATUS, job)
            await enqueue(tx, RELAY_OUTBOUND, job)
        await tx.conversations.touch_agent(conversation.id, now)
        if not conversation.claimed_by:  # the root shows who handles it, on every platform
            await tx.conversations.claim(conversation.id, event.author_name)
            await self._enqueue_root(tx, conversation)

    async def _store_files(
        self, tx: Tx, conversation: ConversationRow, event: AgentMessage, caption: str
    ) -> bool:
        """One stored message and send job per file; False if the event was stored before.

        The first file carries the chat message's id (so a redelivered event stores
        nothing, and its status marks show on the agent's message) and the caption."""
        if self._files is None:
            await self._enqueue_notice(tx, conversation, self._policy.texts.files_not_set_up)
            return False
        contact_id, number_id = conversation.contact_id, conversation.number_id
        for index, file in enumerate(event.files):
            message_id = await tx.messages.insert_outbound(
                contact_id=conversation.contact_id,
                conversation_id=conversation.id,
                chat_id=event.chat_id if index == 0 else None,
                body=caption if index == 0 else "",
                author=event.author_id,
                now=tx.clock.now(),
                kind=whatsapp_kind(declared_type(file)),
            )
            if message_id is None:
                return False
            if index == 0:
                status = MessageJob(
                    message_id=message_id, contact_id=contact_id, number_id=number_id
                )
                await enqueue(tx, CHAT_STATUS, status)
            send = FileJob(
                message_id=message_id, contact_id=contact_id, number_id=number_id, file=file
            )
            await enqueue(tx, RELAY_OUTBOUND_FILE, send)
        return True

    def _may_act(self, event: AgentEvent) -> bool:
        """The one rule for replies and buttons alike: a member of the channel or room (as
        the adapter reports) and, if an allow-list is configured, on it."""
        if not event.author_is_member:
            return False
        platform = self._rooms.platform_of(event.room_id)
        allowed = self._policy.allowed_by_platform.get(platform, self._policy.allowed_users)
        return not allowed or event.author_id in allowed

    async def _on_edit(self, event: AgentMessage) -> None:
        assert event.edit_of is not None
        async with self._store.transaction() as tx:
            original = await tx.messages.by_chat_id(event.edit_of)
            if original is None or original.direction != "out" or original.conversation_id is None:
                return
            conversation = await tx.conversations.get(original.conversation_id)
            assert conversation is not None
            await self._enqueue_notice(
                tx,
                conversation,
                self._policy.texts.edit_impossible,
            )

    async def _on_action(self, action: AgentAction) -> str | None:
        """A button press. A refusal goes to the presser alone where the platform can
        (``Capabilities.ephemeral``), else into the thread."""
        async with self._store.transaction() as tx:
            conversation = await self._conversation_at(tx, action.thread_id, action.room_id)
            if conversation is None:
                log.info("ignored %s action: thread is not a customer conversation", action.action)
                return None
            if not self._may_act(action):
                log.warning("refused %s action: author is not allowed", action.action)
                refusal = self._refusal(action)
                with self._rooms.chatting_for(conversation):
                    ephemeral = self._chat.capabilities.ephemeral
                if ephemeral:
                    return refusal
                await self._enqueue_notice(tx, conversation, refusal)
                return None
            if action.action == "close":
                await self._close(tx, conversation, action.author_name)
            elif action.action == "claim":
                await tx.conversations.claim(conversation.id, action.author_name)
                await self._enqueue_root(tx, conversation)
        return None

    async def _conversation_at(
        self, tx: Tx, thread_id: ThreadId, room: str
    ) -> ConversationRow | None:
        """The conversation whose thread this is, in the room the event was written in
        (Slack thread ids are unique per channel only; "" when the platform did not say)."""
        conversation = await tx.conversations.by_thread(thread_id, room or None)
        if conversation is None or not self._rooms.holds(conversation, room):
            return None
        return conversation

    def _refusal(self, action: AgentAction) -> str:
        texts, author = self._policy.texts, action.author_name
        if action.action == "close":
            return texts.refused_close.format(author=author)
        return texts.refused_claim.format(author=author)

    async def _close(self, tx: Tx, conversation: ConversationRow, who: str) -> None:
        if await tx.conversations.close(conversation.id, tx.clock.now()):
            await self._record(tx, "closed", conversation.id, None)
            await self._enqueue_notice(
                tx,
                conversation,
                self._policy.texts.closed_by.format(agent=who),
            )
            await self._enqueue_root(tx, conversation)

    async def _enqueue_notice(self, tx: Tx, conversation: ConversationRow, text: str) -> None:
        notice = NoticeJob(
            conversation_id=conversation.id,
            contact_id=conversation.contact_id,
            number_id=conversation.number_id,
            text=text,
        )
        await enqueue(tx, CHAT_NOTICE, notice)

    async def _enqueue_root(self, tx: Tx, conversation: ConversationRow) -> None:
        root = ConversationJob(
            conversation_id=conversation.id,
            contact_id=conversation.contact_id,
            number_id=conversation.number_id,
        )
        await enqueue(tx, CHAT_ROOT, root)

    async def send_outbound(self, job: Job, payload: MessageJob) -> None:
        """``relay.outbound``: an agent's (or Empfang's own) message to the customer."""

        async def send(contact: ContactRow, to: WaId, body: str) -> ProviderMessageId:
            return await self._extras.send(payload.message_id, to, body)

        await self._deliver(payload, send)

    async def send_template(self, job: Job, payload: MessageJob) -> None:
        """``relay.template``: an approved template (``bot.templates.sending``)."""

        async def send(contact: ContactRow, to: WaId, body: str) -> ProviderMessageId:
            return await self.templates.send(payload.message_id, to)

        await self._deliver(payload, send)

    async def post_media(self, job: Job, payload: MediaJob) -> None:
        """``relay.media``: a customer's file into the thread (``bot.media.inbound``)."""
        if self.media is None:
            raise UnrunnableJob("customers' files are not set up in this process")
        await self.media.relay(job, payload)

    async def send_file(self, job: Job, payload: FileJob) -> None:
        """``relay.outbound_file``: an agent's file, the stored text as its caption. A file
        WhatsApp cannot take fails like a refused send (131053), explained in the thread;
        a file the chat no longer has, likewise."""
        files = self._files
        assert files is not None  # enqueued only when files are set up

        async def send(contact: ContactRow, to: WaId, body: str) -> ProviderMessageId:
            masker = render.Masker.for_contact(contact, self._policy.privacy)
            try:
                return await files.send(to, payload.file, body, masker)
            except MediaRefused as refused:
                name = mask_filename(payload.file.name, masker)
                reason = refusal(refused, name, self._policy.texts)
                raise ProviderError(reason, code=MEDIA_UPLOAD_ERROR, retryable=False) from None
            except PlatformError as error:
                if error.retryable:
                    raise
                name = mask_filename(payload.file.name, masker)
                reason = self._policy.texts.file_unavailable.format(name=name)
                raise ProviderError(reason, code=MEDIA_UPLOAD_ERROR, retryable=False) from None

        await self._deliver(payload, send)
        await self._explain_unmarked(payload)

    async def _explain_unmarked(self, payload: FileJob) -> None:
        """A failed file without a chat message of its own (the second of several in one
        Slack message) has no status mark that would explain it: a notice does."""
        async with self._store.transaction() as tx:
            row = await tx.messages.get(payload.message_id)
            if row is None or row.chat_id is not None or row.status != "failed":
                return
            assert row.conversation_id is not None
            text = explain.failure(row.error_code, row.error_title, self._policy.texts)
            notice = NoticeJob(
                conversation_id=row.conversation_id,
                contact_id=row.contact_id,
                number_id=payload.number_id,
                text=text,
            )
            await enqueue(tx, CHAT_NOTICE, notice)

    async def _deliver(self, payload: MessageJob | FileJob, send: Sender) -> None:
        """Send a stored outbound message with ``send`` and record the outcome."""
        message_id = payload.message_id
        async with self._store.transaction() as tx:
            row = await tx.messages.get(message_id)
            if row is None or row.provider_id is not None or row.status == "failed":
                return
            contact = await tx.contacts.get(row.contact_id)
            assert contact is not None and row.conversation_id is not None
            latest = await tx.messages.latest_inbound(row.conversation_id)
            conversation = await tx.conversations.get(row.conversation_id)
        number = conversation.number_id if conversation is not None else ""
        job = MessageJob(message_id=message_id, contact_id=row.contact_id, number_id=number)
        if not contact.wa_id:
            await self._fail(job, None, "customer has no phone number")
            return
        try:
            with sending_from(number):
                provider_id = await send(contact, contact.wa_id, row.body or "")
        except ProviderError as error:
            if error.retryable:
                raise
            code = error.code if isinstance(error.code, int) else None
            await self._fail(job, code, str(error))
            if isinstance(error, TokenInvalid) and self._operations is not None:
                await self._operations.raise_alert(
                    "whatsapp_token",
                    self._policy.texts.token_invalid,
                )
            return
        # Keep the window between "sent" and "recorded" minimal: WhatsApp has no idempotency key.
        async with self._store.transaction() as tx:
            now = tx.clock.now()
            await tx.messages.mark_sent(message_id, provider_id, now)
            await tx.messages.apply_status_events(provider_id)
            await self._record(tx, "message_out", row.conversation_id, message_id)
            if row.chat_id is not None:
                await enqueue(tx, CHAT_STATUS, job)
        if self._operations is not None:
            await self._operations.clear_alert("whatsapp_token", self._policy.texts.token_valid)
        if latest is not None and latest.provider_id:
            with sending_from(number):
                await self._mark_read(latest.provider_id)

    async def _mark_read(self, provider_id: ProviderMessageId) -> None:
        """Blue ticks for the customer once an agent answered; cosmetic, so never fatal."""
        try:
            await self._whatsapp.mark_read(provider_id)
        except DeliveryError as error:
            log.info("mark-as-read failed: %s", type(error).__name__)

    async def _fail(self, job: MessageJob, code: int | None, title: str) -> None:
        """Record the send of ``job``'s message as failed and show it in the thread."""
        async with self._store.transaction() as tx:
            await tx.messages.mark_failed(job.message_id, code, title)
            await enqueue(tx, CHAT_STATUS, job)

    # -- receipts → thread -------------------------------------------------------------------

    async def show_status(self, job: Job, payload: MessageJob) -> None:
        """``chat.status``: the message's delivery status as a mark in the thread."""
        message_id = payload.message_id
        async with self._store.transaction() as tx:
            row = await tx.messages.get(message_id)
            if row is None or row.chat_id is None or row.conversation_id is None:
                return
            conversation = await tx.conversations.get(row.conversation_id)
        status = row.delivery_status
        if status is None or conversation is None or conversation.thread_id is None:
            return
        if row.shown_status == status.value:
            return
        ref = None
        if self._chat.capabilities.reactions:
            ref = await self._chat.set_status(
                conversation.thread_id,
                row.chat_id,
                status,
                previous=row.status_chat_id,
                key=self._key(f"status-{message_id}-{status.value}"),
            )
        async with self._store.transaction() as tx:
            await tx.messages.set_shown_status(message_id, status.value, ref)
        if status is DeliveryStatus.FAILED:
            await self._chat.post(
                conversation.thread_id,
                explain.failure(row.error_code, row.error_title, self._policy.texts),
                key=self._key(f"failed-{message_id}"),
            )

    async def _open_thread(self, conversation: ConversationRow, contact: ContactRow) -> ThreadId:
        root = self._thread_root(conversation, contact)
        thread_id = await self._chat.open_thread(root, key=self._key(f"root-{conversation.id}"))
        target = self._rooms.of(conversation)  # its number's room: the thread stays there
        await self._store.transact(
            lambda tx: tx.conversations.set_thread(
                conversation.id, thread_id, platform=target.platform, room=target.room
            )
        )
        return thread_id

    async def post_echo(self, job: Job, payload: EchoJob) -> None:
        """``relay.echo``: a message the business sent from the WhatsApp Business app on
        the same number (coexistence), shown in the thread as the business's reply."""
        async with self._store.transaction() as tx:
            row = await tx.messages.get(payload.message_id)
            contact = await tx.contacts.get(payload.contact_id)
            if row is None or row.chat_id is not None or contact is None:
                return
            number = payload.number_id or self._policy.first_number
            conversation, new = await tx.conversations.ensure_open(
                contact.id, tx.clock.now(), number_id=number
            )
            if new:
                await self._record(tx, "opened", conversation.id, None)
            await tx.messages.assign(row.id, conversation.id)
            await tx.conversations.touch_agent(conversation.id, tx.clock.now())
        masker = render.Masker.for_contact(contact, self._policy.privacy)
        shown = masker.text(row.body) if row.body else f"({row.kind})"  # a file: its kind
        text = self._policy.texts.business_echo.format(text=shown)
        with self._rooms.chatting_for(conversation):
            thread_id = conversation.thread_id or await self._open_thread(conversation, contact)
            chat_id = await self._chat.post(thread_id, text, key=self._key(f"echo-{row.id}"))
        async with self._store.transaction() as tx:
            await tx.messages.set_chat_id(row.id, chat_id)

    async def post_notice(self, job: Job, payload: NoticeJob) -> None:
        """``chat.notice``: a notice from Empfang into the thread."""
        thread_id = await self._thread_of(payload.conversation_id)
        if thread_id is not None:
            await self._chat.post(thread_id, payload.text, key=self._key(f"job-{job.id}"))

    async def update_root(self, job: Job, payload: ConversationJob) -> None:
        """``chat.root``: re-render the thread's root (claim, close, window time)."""
        async with self._store.transaction() as tx:
            conversation = await tx.conversations.get(payload.conversation_id)
            if conversation is None or conversation.thread_id is None:
                return
            contact = await tx.contacts.get(conversation.contact_id)
            await self.window.rearm(tx, conversation)  # the window may have moved
        assert contact is not None and conversation.thread_id is not None
        root = self._thread_root(conversation, contact)
        await self._chat.update_root(conversation.thread_id, root, key=self._key(f"job-{job.id}"))

    def _thread_root(self, conversation: ConversationRow, contact: ContactRow) -> ThreadRoot:
        policy = self._policy
        return render.thread_root(
            conversation,
            contact,
            policy.privacy,
            policy.texts,
            policy.timezone,
            now=self._store.clock.now(),
            number_name=policy.number_names.get(conversation.number_id, ""),
        )

    def _window_refusal(self, conversation: ConversationRow) -> str:
        policy = self._policy
        return window.refusal(
            conversation,
            policy.texts,
            reengage=policy.reengage_template,
            timezone=policy.timezone,
            templates=self.templates.sends_from(conversation.number_id),
        )

    async def _thread_of(self, conversation_id: int) -> ThreadId | None:
        async with self._store.transaction() as tx:
            conversation = await tx.conversations.get(conversation_id)
        return conversation.thread_id if conversation else None
