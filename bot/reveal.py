"""Break-glass reveal: ``!reveal <reason>`` shows a customer's full number to the agent who
asked, and to nobody else (privacy.md item 7; Art. 5(2), 32(4)).

Only users listed in ``privacy.reveal_users`` may, with a reason, at most
``privacy.reveal_per_day`` times a day each (counted from the audit trail, the record that
cannot be edited unnoticed). Every reveal is an audit row (who, whose pseudonym, the reason;
never the number) written in the transaction that decides it, and the thread learns who
revealed it and why. The number goes out through the platform's private channel
(``ChatPlatform.show_privately``: a Slack ephemeral message, a Matrix direct room) and is
read from the contact only when the job runs, so it is never in the job queue; what the
platform keeps is withdrawn by a delayed job after ``privacy.reveal_ttl``. A Matrix direct
room is kept in the store (``bot.store.private_rooms``) before the number goes into it, so
an attempt retried after a crash uses the same room, and the withdrawal clears all of it.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.audit import AuditEntry, record
from bot.cases.model import utc_iso
from bot.config import PrivacySection
from bot.job_catalog import CHAT_REVEAL, CHAT_WITHDRAW, RevealJob, WithdrawJob, enqueue
from bot.logfilter import mask_log_text
from bot.ports import AgentMessage, ChatPlatform, PrivateRef
from bot.store import Store, Tx
from bot.store.conversations import ConversationRow
from bot.store.jobs import Job
from bot.store.private_rooms import PrivateRooms
from bot.texts import Texts


class Reveals:
    def __init__(
        self,
        store: Store,
        chat: ChatPlatform,
        privacy: PrivacySection,
        texts: Texts,
        timezone: str,
    ) -> None:
        self._store = store
        self._chat = chat
        self._users = frozenset(privacy.reveal_users)
        self._ttl = privacy.reveal_ttl
        self._per_day = privacy.reveal_per_day
        self._texts = texts
        self._zone = ZoneInfo(timezone)

    async def request(
        self, tx: Tx, conversation: ConversationRow, event: AgentMessage, reason: str
    ) -> str:
        """Decide on ``!reveal <reason>``; the answer everyone in the thread sees."""
        texts, author = self._texts, event.author_name
        if event.author_id not in self._users:
            return texts.reveal_refused.format(author=author)
        reason = mask_log_text(reason.strip())
        if not reason:
            return texts.reveal_needs_reason
        capabilities = self._chat.capabilities
        if not (capabilities.ephemeral or capabilities.direct_rooms):
            return texts.reveal_impossible
        contact = await tx.contacts.get(conversation.contact_id)
        if contact is None or not contact.wa_id:
            return texts.reveal_no_number
        if await self._revealed_today(tx, event.author_id) >= self._per_day:
            return texts.reveal_limit.format(author=author, limit=self._per_day)
        entry = AuditEntry(
            "number.reveal",
            event.author_id,
            subject=contact.pseudonym,
            reason=reason,
            details={"conversation": conversation.id},
        )
        await record(tx, entry)
        job = RevealJob(
            conversation_id=conversation.id,
            contact_id=contact.id,
            number_id=conversation.number_id,
            user_id=event.author_id,
            reason=reason,
        )
        await enqueue(tx, CHAT_REVEAL, job)
        return texts.reveal_announced.format(agent=author, reason=reason)

    async def _revealed_today(self, tx: Tx, actor: str) -> int:
        """Reveals by ``actor`` since midnight where the business is (``[business_hours]
        timezone``)."""
        today = datetime.fromtimestamp(tx.clock.now(), self._zone).date()
        since = utc_iso(datetime.combine(today, time(), self._zone).timestamp())
        rows = await tx.audit.where("actor", actor)
        return sum(1 for row in rows if row.action == "number.reveal" and row.time >= since)

    async def show(self, job: Job, payload: RevealJob) -> None:
        """``chat.reveal``: the number to the agent alone; a withdrawal job if it stays."""
        async with self._store.transaction() as tx:
            conversation = await tx.conversations.get(payload.conversation_id)
            contact = await tx.contacts.get(payload.contact_id)
        if conversation is None or conversation.thread_id is None:
            return  # erased or purged meanwhile
        if contact is None or not contact.wa_id:
            return
        text = self._texts.reveal_private.format(
            customer=contact.pseudonym, number=f"+{contact.wa_id}", reason=payload.reason
        )
        key = self._key(f"reveal-{job.id}")
        room_id = await self._room(payload.user_id, key)
        ref = await self._chat.show_privately(
            conversation.thread_id, payload.user_id, text, room_id=room_id, key=key
        )
        if ref is None:
            return
        withdrawal = WithdrawJob(room_id=ref.room_id, event_id=ref.event_id)
        async with self._store.transaction() as tx:
            await enqueue(tx, CHAT_WITHDRAW, withdrawal, delay=self._ttl)

    async def _room(self, user_id: str, key: str) -> str | None:
        """The direct room of this reveal (``Capabilities.direct_rooms``): the one an earlier
        attempt of the job made, from the store, or a new one, kept in the store before
        the number is sent into it."""
        if not self._chat.capabilities.direct_rooms:
            return None
        async with self._store.transaction() as tx:
            room_id = await PrivateRooms(tx.conn).get(key)
        if room_id is None:
            room_id = await self._chat.private_room(user_id, key=key)
            async with self._store.transaction() as tx:
                await PrivateRooms(tx.conn).remember(key, room_id, now=tx.clock.now())
        return room_id

    async def withdraw(self, job: Job, payload: WithdrawJob) -> None:
        """``chat.withdraw``: remove the revealed number once ``reveal_ttl`` is over."""
        ref = PrivateRef(room_id=payload.room_id, event_id=payload.event_id)
        await self._chat.withdraw(ref, key=self._key(f"withdraw-{job.id}"))
        async with self._store.transaction() as tx:
            await PrivateRooms(tx.conn).forget(ref.room_id)

    def _key(self, name: str) -> str:
        return f"{self._store.instance_id}:{name}"
