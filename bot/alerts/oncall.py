"""On-call: SLA reminders and escalation, the 24-hour window warning, business hours,
urgent keywords, the first-contact notice, and operational alerts.

Timers are durable jobs with a ``run_after``: they survive restarts and are checked when
they fire (an agent's reply removes the timer, so a late job finds nothing to do). Due times
are computed in business time, so a message on Friday evening is due on Monday.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from bot.alerts.hours import Schedule
from bot.alerts.paging import Pager, page_body
from bot.audit import BOT_ACTOR, AuditEntry
from bot.audit import record as record_audit
from bot.config.alerts import AlertsSection, BusinessHoursSection
from bot.domain import SERVICE_WINDOW_SECONDS
from bot.errors import PagingError, SignatureError
from bot.job_catalog import (
    ALERT_PAGE,
    ALERT_POST,
    ALERT_SLA,
    ALERT_WINDOW,
    AlertPostJob,
    JobKind,
    PageJob,
    TimerJob,
    enqueue,
    schedule,
)
from bot.logfilter import mask_log_text
from bot.own_messages import EMPFANG_AUTHOR as EMPFANG_AUTHOR
from bot.own_messages import may_write, say_to_customer
from bot.ports import CaseEvent, ChatPlatform
from bot.routing import ChatTarget, Rooms, chatting_at
from bot.store import Store, Tx
from bot.store.conversations import ConversationRow
from bot.store.jobs import Job
from bot.texts import Texts

log = logging.getLogger("empfang.alerts")


def duration_text(seconds: float, texts: Texts) -> str:
    minutes = round(seconds / 60)
    if minutes >= 60:
        return texts.duration_hours.format(hours=minutes // 60, minutes=minutes % 60)
    return texts.duration_minutes.format(minutes=minutes)


class OnCall:
    def __init__(
        self,
        store: Store,
        chat: ChatPlatform,
        alerts: AlertsSection,
        hours: BusinessHoursSection,
        *,
        texts: Texts,
        first_contact_notice: str = "",
        pager: Pager | None = None,
        rooms: Rooms | None = None,
        number_hours: Mapping[str, BusinessHoursSection] | None = None,
    ) -> None:
        """``number_hours``: the numbers with business hours of their own
        (``[numbers.business_hours]``); the others keep ``hours``."""
        self._store = store
        self._chat = chat
        self._alerts = alerts
        self._texts = texts
        self._schedule = Schedule(hours)
        self._schedules = {number: Schedule(own) for number, own in (number_hours or {}).items()}
        self._notice = first_contact_notice
        self._pager = pager if pager is not None and pager.configured else None
        self._signature_failures: deque[float] = deque()
        self._active: set[str] | None = None
        self._rooms = rooms or Rooms((), ChatTarget(chat.name, ""))

    def _hours_of(self, conversation: ConversationRow) -> Schedule:
        """The business hours of the conversation's number, else the global ones."""
        return self._schedules.get(conversation.number_id, self._schedule)

    def _mention(self, conversation: ConversationRow | None) -> str:
        """Whom an alert calls, as the platform of the room it goes to writes a mention."""
        target = self._rooms.of(conversation) if conversation else self._rooms.default
        oncall = self._alerts.oncall
        mention = oncall.slack if target.platform == "slack" else " ".join(oncall.matrix)
        return f"{mention} " if mention else ""

    @property
    def texts(self) -> Texts:
        """The catalogue alerts are written in; ``MonitoredChat`` words its alerts with it."""
        return self._texts

    async def aclose(self) -> None:
        if self._pager is not None:
            await self._pager.aclose()

    # -- conversation events (inside the relay's transaction) --------------------------------

    async def record(self, tx: Tx, event: CaseEvent) -> None:
        if event.kind == "message_in" and event.message_id is not None:
            await self._customer_wrote(tx, event.conversation_id, event.message_id)
        elif event.kind == "message_out" and event.message_id is not None:
            message = await tx.messages.get(event.message_id)
            if message is not None and message.author != EMPFANG_AUTHOR:
                await self._answered(tx, event.conversation_id)
        elif event.kind == "closed":
            await self._answered(tx, event.conversation_id)

    async def _customer_wrote(self, tx: Tx, conversation_id: int, message_id: int) -> None:
        now = tx.clock.now()
        conversation = await tx.conversations.get(conversation_id)
        message = await tx.messages.get(message_id)
        contact = await tx.contacts.get(conversation.contact_id) if conversation else None
        if conversation is None or message is None or contact is None:
            return
        if may_write(contact):  # nothing unprompted after an objection (bot.objection)
            await self._auto_replies(tx, conversation, now)
        schedule = self._hours_of(conversation)
        if schedule.is_urgent(message.body or ""):
            await self._urgent_page(tx, conversation, message_id)
        if await tx.alerts.start_timer(conversation_id, now, message_id):
            due = schedule.hours.add_open_time(now, self._alerts.unanswered_after)
            await self._enqueue(tx, ALERT_SLA, conversation, due - now, message_id, "remind")
        warn_in = SERVICE_WINDOW_SECONDS - self._alerts.window_warning_before
        await self._enqueue(tx, ALERT_WINDOW, conversation, warn_in, message_id, "warn")

    async def _auto_replies(self, tx: Tx, conversation: ConversationRow, now: float) -> None:
        """The first-contact notice and the out-of-hours reply, each when it is due."""
        notice = self._notice
        if notice and await tx.contacts.mark_notice_sent(conversation.contact_id, now):
            note = self._texts.privacy_notice_sent.format(text=notice)
            await say_to_customer(tx, conversation, notice, note)
        schedule = self._hours_of(conversation)
        reply = schedule.out_of_hours_reply
        today = schedule.hours.local_date(now).isoformat()
        if (
            reply
            and not schedule.hours.is_open(now)
            and await tx.alerts.claim_auto_reply(conversation.id, today)
        ):
            note = self._texts.out_of_hours_reply_sent.format(text=reply)
            await say_to_customer(tx, conversation, reply, note)

    async def _answered(self, tx: Tx, conversation_id: int) -> None:
        timer = await tx.alerts.stop_timer(conversation_id)
        if timer is not None and timer.stage == "escalated":
            await self._enqueue_page(
                tx, "resolve", f"empfang-sla-{conversation_id}-{timer.since_message_id}", ""
            )

    async def _enqueue(
        self,
        tx: Tx,
        kind: JobKind[TimerJob],
        conversation: ConversationRow,
        delay: float,
        message_id: int,
        stage: Literal["remind", "escalate", "warn"],
    ) -> None:
        timer = TimerJob(conversation_id=conversation.id, message_id=message_id, stage=stage)
        await schedule(tx, kind, timer, delay=max(delay, 0.0))

    async def _urgent_page(self, tx: Tx, conversation: ConversationRow, message_id: int) -> None:
        contact = await tx.contacts.get(conversation.contact_id)
        who = contact.pseudonym if contact else self._texts.unknown_customer
        await self._enqueue_post(
            tx,
            self._texts.urgent_post.format(mention=self._mention(conversation), who=who),
            conversation.id,
            f"urgent-{message_id}",
        )
        summary = self._texts.urgent_page.format(who=who)
        await self._enqueue_page(tx, "trigger", f"empfang-urgent-{message_id}", summary)

    # -- timers -------------------------------------------------------------------------------

    async def sla_due(self, job: Job, payload: TimerJob) -> None:
        """``alert.sla``: remind, later escalate, while the customer waits for an answer."""
        conversation_id, message_id, stage = (
            payload.conversation_id,
            payload.message_id,
            payload.stage,
        )
        async with self._store.transaction() as tx:
            timer = await tx.alerts.timer(conversation_id)
            conversation = await tx.conversations.get(conversation_id)
            contact = await tx.contacts.get(conversation.contact_id) if conversation else None
        if timer is None or timer.since_message_id != message_id or contact is None:
            return  # answered (or closed) in the meantime
        assert conversation is not None
        texts = self._texts
        customer = contact.pseudonym
        if stage == "remind":
            waited = duration_text(self._alerts.unanswered_after, texts)
            text = texts.sla_reminder.format(
                mention=self._mention(conversation), customer=customer, waited=waited
            )
        else:
            waited = duration_text(self._alerts.escalate_after, texts)
            text = texts.sla_escalated.format(
                mention=self._mention(conversation), customer=customer, waited=waited
            )
        await self._alert_everywhere(text, conversation, f"sla-{message_id}-{stage}")
        async with self._store.transaction() as tx:
            if stage == "remind":
                if await tx.alerts.advance_timer(conversation_id, "waiting", "reminded"):
                    hours = self._hours_of(conversation).hours
                    due = hours.add_open_time(timer.since, self._alerts.escalate_after)
                    delay = due - tx.clock.now()
                    await self._enqueue(tx, ALERT_SLA, conversation, delay, message_id, "escalate")
            elif await tx.alerts.advance_timer(conversation_id, "reminded", "escalated"):
                await self._enqueue_page(
                    tx,
                    "trigger",
                    f"empfang-sla-{conversation_id}-{message_id}",
                    texts.sla_page.format(customer=customer, waited=waited),
                )

    async def window_due(self, job: Job, payload: TimerJob) -> None:
        """``alert.window``: warn before the 24-hour window of an unanswered customer closes."""
        conversation_id, message_id = payload.conversation_id, payload.message_id
        async with self._store.transaction() as tx:
            conversation = await tx.conversations.get(conversation_id)
            latest = await tx.messages.latest_inbound(conversation_id)
        if conversation is None or not conversation.is_open or latest is None:
            return
        if latest.id != message_id:
            return  # the customer wrote again: the window moved
        answered = conversation.last_agent_at or 0.0
        if answered >= latest.created_at or conversation.thread_id is None:
            return
        zone = self._hours_of(conversation).zone
        closes = datetime.fromtimestamp(latest.created_at + SERVICE_WINDOW_SECONDS, zone)
        await self._chat.alert(
            self._texts.window_warning.format(
                mention=self._mention(conversation), closes=f"{closes:%H:%M}", zone=zone.key
            ),
            thread_id=conversation.thread_id,
            key=f"{self._store.instance_id}:window-{message_id}",
        )

    async def _alert_everywhere(
        self, text: str, conversation: ConversationRow | None, key: str
    ) -> None:
        """In the thread, and also in the alerts room when one is configured: the one of
        the conversation's number (``[[numbers]] alerts_room``), else ``[alerts] room``."""
        instance = self._store.instance_id
        thread_id = conversation.thread_id if conversation is not None else None
        await self._chat.alert(text, thread_id=thread_id, key=f"{instance}:{key}")
        if conversation is None or thread_id is None:
            return
        room = self._rooms.alerts_of(conversation)
        if room is None and self._alerts.room:
            room = ChatTarget(self._rooms.default.platform, self._alerts.room)
        if room is not None:
            with chatting_at(room):
                await self._chat.alert(text, thread_id=None, key=f"{instance}:{key}-room")

    # -- operational alerts -------------------------------------------------------------------

    async def _active_kinds(self) -> set[str]:
        """Active alerts, read once: clearing is called on every healthy send, so it must
        not cost a transaction when nothing is wrong."""
        if self._active is None:
            async with self._store.transaction() as tx:
                self._active = set(await tx.alerts.active_operational())
        return self._active

    async def raise_alert(
        self, kind: str, summary: str, *, audit: AuditEntry | None = None
    ) -> None:
        """Alert on-call once per ``kind`` until :meth:`clear_alert`; never carries a number.
        ``audit`` is recorded once per raise, in the same transaction (a burst, not each try)."""
        summary = mask_log_text(summary)
        active = await self._active_kinds()
        async with self._store.transaction() as tx:
            active.add(kind)
            if not await tx.alerts.raise_operational(kind, summary, tx.clock.now()):
                return
            if audit is not None:
                await record_audit(tx, audit)
            await self._enqueue_post(
                tx, f"🚨 {self._mention(None)}{summary}", None, f"op-{kind}-up"
            )
            await self._enqueue_page(tx, "trigger", f"empfang-op-{kind}", summary)
        log.warning("operational alert raised: %s", kind)

    async def clear_alert(self, kind: str, summary: str) -> None:
        active = await self._active_kinds()
        if kind not in active:
            return
        active.discard(kind)
        async with self._store.transaction() as tx:
            if not await tx.alerts.clear_operational(kind):
                return
            resolved = self._texts.alert_resolved.format(summary=summary)
            await self._enqueue_post(tx, resolved, None, f"op-{kind}-down")
            await self._enqueue_page(tx, "resolve", f"empfang-op-{kind}", summary)
        log.info("operational alert resolved: %s", kind)

    async def signature_failed(self, error: SignatureError) -> None:
        """Repeated bad signatures: a wrong ``whatsapp.app_secret`` or someone probing."""
        now = self._store.clock.now()
        window = self._alerts.signature_failures_window
        self._signature_failures.append(now)
        while self._signature_failures and self._signature_failures[0] < now - window:
            self._signature_failures.popleft()
        count = len(self._signature_failures)
        if count < self._alerts.signature_failures_threshold:
            return
        text = self._texts.signatures_failing.format(
            count=count, window=duration_text(window, self._texts)
        )
        burst = AuditEntry(
            "webhook.signature_failures", BOT_ACTOR, details={"count": count, "window_s": window}
        )
        await self.raise_alert("webhook_signatures", text, audit=burst)

    async def webhook_accepted(self) -> None:
        """A correctly signed webhook after a quiet window ends the signature alert."""
        if not self._signature_failures:
            return  # the hot path: nothing was refused lately
        window = self._alerts.signature_failures_window
        if self._signature_failures[-1] < self._store.clock.now() - window:
            self._signature_failures.clear()
            await self.clear_alert("webhook_signatures", self._texts.signatures_valid)

    async def waiting_out(self, job: Job, reason: str) -> None:
        """Jobs of ``job.kind`` cannot reach their platform: they wait (nothing is lost), but
        someone should look, as soon as a job would have been dead-lettered before."""
        await self.raise_alert(
            f"outage-{job.kind}",
            self._texts.outage_waiting.format(kind=job.kind, attempts=job.attempts, reason=reason),
        )

    async def went_through(self, kind: str) -> None:
        await self.clear_alert(f"outage-{kind}", self._texts.outage_over.format(kind=kind))

    async def dead_lettered(self, job: Job, reason: str) -> None:
        await self.raise_alert(
            f"dead-letter-{job.id}",
            self._texts.dead_letter.format(kind=job.kind, attempts=job.attempts, reason=reason),
        )

    # -- jobs that talk to chat and pager -----------------------------------------------------

    async def _enqueue_post(self, tx: Tx, text: str, conversation_id: int | None, key: str) -> None:
        post = AlertPostJob(text=text, conversation_id=conversation_id, key=key)
        await enqueue(tx, ALERT_POST, post)

    async def post_alert(self, job: Job, payload: AlertPostJob) -> None:
        """``alert.post``: an alert into the thread and the alerts room."""
        conversation = None
        if payload.conversation_id is not None:
            async with self._store.transaction() as tx:
                conversation = await tx.conversations.get(payload.conversation_id)
        await self._alert_everywhere(payload.text, conversation, payload.key)

    async def _enqueue_page(
        self, tx: Tx, action: Literal["trigger", "resolve"], dedup_key: str, summary: str
    ) -> None:
        """Pages keep their order (a resolve never overtakes its trigger); the routing key is
        added only when sending, so no secret is stored in the queue."""
        if self._pager is None:
            return
        page = PageJob(action=action, dedup_key=dedup_key, summary=summary)
        await enqueue(tx, ALERT_PAGE, page)

    async def page(self, job: Job, payload: PageJob) -> None:
        """``alert.page``: the page to the paging tool, routing key added here."""
        if self._pager is None:
            raise PagingError("alerts.webhook.url is no longer configured", retryable=False)
        await self._pager.send(
            page_body(
                self._alerts.webhook,
                action=payload.action,
                dedup_key=payload.dedup_key,
                summary=payload.summary,
                severity="critical",
            )
        )
