"""Every kind of durable job: its name, its typed payload, its order key, its handler.

A job row stores a kind name and a JSON payload. Each :class:`JobKind` here says what that
payload must look like (a frozen pydantic model), how its order key follows from it (jobs
with the same key run one after another), and what a handler for it receives. Modules
that enqueue jobs do it through :func:`enqueue`, so a payload is written by one model and
read back by the same one; ``bot.wiring`` binds each kind to its handler.

A payload that does not validate (written by another version, or edited by hand) raises
:class:`~bot.jobs.InvalidJobPayload` before the handler runs, and the worker dead-letters
the job with the reason, naming fields but never their values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from pydantic import ValidationError

from bot.cases.content import TransferRequest
from bot.cases.model import transfer_order_key
from bot.domain import Frozen
from bot.jobs import InvalidJobPayload, JobHandler
from bot.ports import AgentFile, PostRef
from bot.store import Tx
from bot.store.jobs import Job
from bot.store.messages import MessageRow

P = TypeVar("P", bound=Frozen)

Handler = Callable[[Job, P], Awaitable[None]]
"""A job's handler: the job (id, attempts, order key) and its validated payload."""

CONTACT_ORDER_PREFIX = "contact:"
MEDIA_ORDER_PREFIX = "media:"
PAGING_ORDER_KEY = "paging"
"""Pages keep their order: a resolve never overtakes its trigger."""


def number_lane(number_id: str) -> str:
    """What a business number adds to a customer's order keys: ``@`` and a short digest of
    the number, "" for none.

    Jobs are ordered per conversation, i.e. per customer *and* business number: a customer
    who writes to two numbers has two conversations, often in two rooms, and one room being
    slow (pacing, an outage) must not hold up the other's lines, nor break the combining of
    waiting lines (``bot.batching`` takes only the jobs directly behind in one order).

    Why this scheme: the key of a job with no number ("", payloads written before numbers
    were recorded) stays the old ``contact:N``, and ``claim_unnumbered_lanes`` moves such
    waiting jobs into the first configured number's lane at start, before any worker or
    webhook runs; so jobs queued before the upgrade keep their order with the ones queued
    after it, and every number is treated alike (the key does not depend on which number
    is configured first, which can change). A digest, not the number itself: order keys
    appear in log lines, and a Twilio number is a phone number.
    """
    if not number_id:
        return ""
    return "@" + hashlib.sha256(number_id.encode()).hexdigest()[:10]


def contact_order_key(contact_id: int, number_id: str = "") -> str:
    """Chat and send jobs of one conversation (a customer at one business number) run in
    order (see :func:`number_lane`)."""
    return f"{CONTACT_ORDER_PREFIX}{contact_id}{number_lane(number_id)}"


def media_order_key(contact_id: int, number_id: str = "") -> str:
    """A customer's files are shown in the order sent, but in a queue of their own: a slow
    or failing download never holds up the customer's later messages. Per business number,
    like :func:`contact_order_key`."""
    return f"{MEDIA_ORDER_PREFIX}{contact_id}{number_lane(number_id)}"


async def claim_unnumbered_lanes(tx: Tx, number_id: str) -> int:
    """Move waiting jobs whose order key names no number (queued before keys did) into the
    lane of ``number_id``, the first configured one, whose conversations they are about
    (``Conversations.claim_unnumbered``). Run at start, before any job or webhook."""
    lane = number_lane(number_id)
    if not lane:
        return 0
    return await tx.conn.execute(
        "UPDATE jobs SET order_key = order_key || ?"
        " WHERE state = 'pending' AND (order_key LIKE ? OR order_key LIKE ?)"
        " AND order_key NOT LIKE '%@%'",
        (lane, f"{CONTACT_ORDER_PREFIX}%", f"{MEDIA_ORDER_PREFIX}%"),
    )


# -- payloads ---------------------------------------------------------------------------------


class MessageJob(Frozen):
    """About one stored message (relay it, send it, show its status)."""

    message_id: int
    contact_id: int
    number_id: str = ""
    """The business number of the message's conversation, which orders the job (see
    :func:`number_lane`); "" in jobs queued before numbers were recorded."""


class EchoJob(MessageJob):
    """A message sent from the WhatsApp Business app, and the business number it was sent
    from: its conversation is the customer's with that number ("" for the first one)."""


class FileJob(Frozen):
    """An agent's file to send (``bot.media.outbound``): the stored message (its text is
    the caption) and where the chat keeps the file. The reference is all the queue holds;
    the bytes are fetched when the job runs."""

    message_id: int
    contact_id: int
    number_id: str = ""
    """As :attr:`MessageJob.number_id`."""
    file: AgentFile


class MediaJob(Frozen):
    """A customer's file to fetch from WhatsApp and show in the thread (``bot.media.inbound``).

    ``upload`` is what the chat platform noted about an upload it started (``UploadJournal``),
    written back into the job so that a retry after a crash finishes that upload."""

    message_id: int
    contact_id: int
    number_id: str = ""
    """As :attr:`MessageJob.number_id`."""
    upload: str | None = None


class NoticeJob(Frozen):
    """A notice from Empfang into a conversation's thread."""

    conversation_id: int
    contact_id: int
    number_id: str = ""
    """As :attr:`MessageJob.number_id`."""
    text: str


class ConversationJob(Frozen):
    """About a conversation as a whole (re-render its thread root)."""

    conversation_id: int
    contact_id: int
    number_id: str = ""
    """As :attr:`MessageJob.number_id`."""


class TimerJob(Frozen):
    """An on-call timer set by a customer message; checked when it fires."""

    conversation_id: int
    message_id: int
    stage: Literal["remind", "escalate", "warn"]


class AlertPostJob(Frozen):
    """An alert for the chat: in the conversation's thread (if any) and the alerts room."""

    text: str
    conversation_id: int | None
    key: str


class PurgeJob(Frozen):
    """One batch of the retention purge run scheduled for ``scheduled_for`` (``bot.retention``)."""

    scheduled_for: float
    step: int


class RevealJob(Frozen):
    """Show a customer's number to one agent alone (``bot.reveal``); the number itself is
    read from the contact when the job runs, never stored in the queue."""

    conversation_id: int
    contact_id: int
    number_id: str = ""
    """As :attr:`MessageJob.number_id`."""
    user_id: str
    reason: str
    """As the agent gave it, numbers masked (as in the audit trail)."""


class WithdrawJob(Frozen):
    """Remove a privately shown text once its time is up (``bot.reveal``)."""

    room_id: str
    event_id: str


class RemoveThreadJob(Frozen):
    """Remove a conversation's thread from the chat (``bot.chat_removal``). It names the
    thread, not the conversation: the store has let go of the conversation already."""

    thread_id: str
    why: Literal["retention", "erasure"]
    subject: str | None = None
    """The pseudonym, for the audit row of an erasure; None for retention (no one asked)."""
    platform: str = ""
    room: str = ""
    """Where the thread is (``conversations.chat_platform, chat_room``; "" the global room)."""


class RemovePostsJob(Frozen):
    """Remove single posts whose message bodies the retention purge blanked
    (``bot.chat_removal``); at most ``bot.retention.POSTS_PER_JOB``, from any threads."""

    posts: tuple[PostRef, ...]
    platform: str = ""
    room: str = ""
    """Where the posts are: the room of their conversations ("" the global room)."""


class ErasedCaseJob(Frozen):
    """Tell one case system that a person's data was erased (``bot.cases.hooks``). It carries
    what the erased store no longer has: the pseudonym the case system knows them by and
    where their case lives there."""

    transfer_id: str
    sink: str
    conversation_id: int
    requester: str
    case_id: str | None
    label: str | None
    thread: tuple[str, ...]
    opened_at: float


class WindowJob(Frozen):
    """The 24-hour window of a conversation should have closed (``bot.templates.window``)."""

    conversation_id: int


class TemplateShownJob(Frozen):
    """Show a queued template send in its thread (``bot.templates.sending``): the text is
    read from the stored message when the job runs, masked; ``author`` asked for it."""

    message_id: int
    contact_id: int
    number_id: str = ""
    """As :attr:`MessageJob.number_id`."""
    author: str
    name: str
    language: str


class PageJob(Frozen):
    """An Events API v2 page; the routing key is added when sending, never stored."""

    action: Literal["trigger", "resolve"]
    dedup_key: str
    summary: str


# -- kinds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobKind(Generic[P]):
    """One kind of job: the name stored in its rows, its payload model, its order key."""

    name: str
    payload: type[P]
    order_key: Callable[[P], str | None]

    def parse(self, job: Job) -> P:
        """The job's payload as this kind's model, or :class:`InvalidJobPayload`.

        Strict: a number stored as text is someone else's payload, not this kind's."""
        try:
            return self.payload.model_validate_json(job.payload, strict=True)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in error.errors()
            )
            raise InvalidJobPayload(f"{self.name} payload does not validate: {problems}") from None

    def bind(self, handler: Handler[P]) -> tuple[str, JobHandler]:
        """A handler-map entry: validates the payload, then calls ``handler``."""

        async def run(job: Job) -> None:
            await handler(job, self.parse(job))

        return self.name, run


def _by_contact(
    payload: MessageJob | FileJob | NoticeJob | ConversationJob | RevealJob | TemplateShownJob,
) -> str:
    return contact_order_key(payload.contact_id, payload.number_id)


def _unordered(payload: Frozen) -> None:
    return None


RELAY_INBOUND = JobKind("relay.inbound", MessageJob, _by_contact)
"""Post a customer message into its thread (opening the thread first if needed)."""
RELAY_OUTBOUND = JobKind("relay.outbound", MessageJob, _by_contact)
"""Send an agent's (or Empfang's own) message to the customer."""
RELAY_OUTBOUND_FILE = JobKind("relay.outbound_file", FileJob, _by_contact)
"""Send an agent's file to the customer, in order with their text replies."""
RELAY_MEDIA = JobKind(
    "relay.media", MediaJob, lambda job: media_order_key(job.contact_id, job.number_id)
)
"""Fetch a customer's file from WhatsApp and upload it into the thread, after its line."""
CHAT_STATUS = JobKind("chat.status", MessageJob, _by_contact)
"""Show a message's delivery status in the thread."""
CHAT_NOTICE = JobKind("chat.notice", NoticeJob, _by_contact)
"""Post a notice from Empfang into the thread (refusals, help, closing, auto-replies)."""
CHAT_ROOT = JobKind("chat.root", ConversationJob, _by_contact)
"""Re-render the thread's root (claimed, closed, window time)."""
CHAT_REVEAL = JobKind("chat.reveal", RevealJob, _by_contact)
"""Show the customer's full number to the agent who asked ``!reveal``, to them alone."""
CHAT_WITHDRAW = JobKind("chat.withdraw", WithdrawJob, _unordered)
"""Redact a revealed number after ``privacy.reveal_ttl``; a delayed job, so it survives
restarts."""
ALERT_SLA = JobKind("alert.sla", TimerJob, lambda timer: f"sla:{timer.conversation_id}")
"""Remind, later escalate, while a customer waits. One waiting job per conversation, moved
when the timer restarts (``bot.alerts.oncall``)."""
ALERT_WINDOW = JobKind("alert.window", TimerJob, lambda timer: f"window:{timer.conversation_id}")
"""Warn before the 24-hour window of an unanswered customer closes. One waiting job per
conversation, moved by each customer message."""
ALERT_POST = JobKind("alert.post", AlertPostJob, _unordered)
"""Post an alert into the thread and the alerts room."""
ALERT_PAGE = JobKind("alert.page", PageJob, lambda _: PAGING_ORDER_KEY)
"""Send a page to the paging tool."""
CASE_TRANSFER = JobKind(
    "case.transfer",
    TransferRequest,
    lambda request: transfer_order_key(request.conversation_id, request.sink),
)
"""Deliver one conversation event to one case system; in order per conversation and sink,
never waiting for chat jobs."""

RETENTION_PURGE = JobKind("retention.purge", PurgeJob, lambda _: "retention")
"""A batch of the daily retention purge; one at a time, never waiting for chat jobs."""
CASE_ERASED = JobKind(
    "case.erased",
    ErasedCaseJob,
    lambda request: transfer_order_key(request.conversation_id, request.sink),
)
"""Ask one case system to erase its copy of a conversation whose person was erased."""
CHAT_REMOVE = JobKind("chat.remove", RemoveThreadJob, _unordered)
"""Remove a thread whose conversation retention or erasure deleted from the store."""
RELAY_ECHO = JobKind("relay.echo", EchoJob, _by_contact)
"""Show a message the business sent from the WhatsApp Business app in the thread."""
RELAY_REACTION = JobKind("relay.reaction", MessageJob, _by_contact)
"""Make the business's reaction on a customer message what agents show in the thread
(``bot.mirror.agent``): the latest agent reaction still there, or none."""
CHAT_REMOVE_POSTS = JobKind("chat.remove_posts", RemovePostsJob, _unordered)
"""Remove posts whose bodies retention blanked, from threads that stay."""

CHAT_TEMPLATES = JobKind("chat.templates", ConversationJob, _by_contact)
"""Read the template catalogue again and list it in the thread (``!templates``)."""
CHAT_TEMPLATE = JobKind("chat.template", TemplateShownJob, _by_contact)
"""Show a template send in the thread; its post carries the send's status marks."""
RELAY_TEMPLATE = JobKind("relay.template", MessageJob, _by_contact)
"""Send an approved template to the customer."""
CHAT_WINDOW = JobKind("chat.window", WindowJob, lambda job: f"chat-window:{job.conversation_id}")
"""When the 24-hour window closes: show it on the root. One waiting job per conversation
(``bot.templates.window``); not in the customer's order, as a job waiting a day there would
hold up their messages."""

KIND_NAMES: frozenset[str] = frozenset(
    kind.name
    for kind in (
        RELAY_INBOUND,
        RELAY_OUTBOUND,
        RELAY_OUTBOUND_FILE,
        RELAY_MEDIA,
        CHAT_STATUS,
        CHAT_NOTICE,
        CHAT_ROOT,
        CHAT_REVEAL,
        CHAT_WITHDRAW,
        ALERT_SLA,
        ALERT_WINDOW,
        ALERT_POST,
        ALERT_PAGE,
        CASE_TRANSFER,
        RETENTION_PURGE,
        CHAT_REMOVE,
        CHAT_REMOVE_POSTS,
        CASE_ERASED,
        RELAY_REACTION,
        RELAY_ECHO,
        CHAT_TEMPLATES,
        CHAT_TEMPLATE,
        RELAY_TEMPLATE,
        CHAT_WINDOW,
    )
)
"""Every kind this version knows (``empfang jobs list --kind`` checks against it)."""


async def message_job(tx: Tx, row: MessageRow) -> MessageJob:
    """A job about the stored message ``row``, in its conversation's order."""
    number = ""
    if row.conversation_id is not None:
        conversation = await tx.conversations.get(row.conversation_id)
        number = conversation.number_id if conversation is not None else ""
    return MessageJob(message_id=row.id, contact_id=row.contact_id, number_id=number)


async def enqueue(tx: Tx, kind: JobKind[P], payload: P, *, delay: float = 0.0) -> int:
    """Add a job inside the caller's transaction, so it exists iff its reason does."""
    return await tx.jobs.enqueue(
        kind.name,
        payload.model_dump_json(),
        now=tx.clock.now(),
        order_key=kind.order_key(payload),
        delay=delay,
    )


async def schedule(tx: Tx, kind: JobKind[P], payload: P, *, delay: float) -> None:
    """Like :func:`enqueue`, but the job of ``payload``'s order key that still waits is
    moved instead (new payload, new due time): a timer that each message restarts stays one
    job, however many messages come. A job that is running right now is left to finish, and
    a new one waits behind it."""
    key = kind.order_key(payload)
    now = tx.clock.now()
    if key is None or not await tx.jobs.reschedule(
        key, payload.model_dump_json(), now=now, delay=delay
    ):
        await enqueue(tx, kind, payload, delay=delay)
