"""Agents' reactions on customer messages → the business's reaction on WhatsApp.

WhatsApp shows one reaction per sender and message, while several agents may react in the
thread: the customer sees the latest agent reaction that is still there, and none once all
are taken back. The ``relay.reaction`` job sends whatever that is when it differs from what
WhatsApp shows, so reactions added and removed in quick succession cost one send.
Reactions on anything but a customer's message (agents' replies, notices) stay in the chat.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.domain import RELATION_KINDS, OutboundReaction
from bot.errors import ProviderError
from bot.explain import failure
from bot.job_catalog import RELAY_REACTION, MessageJob, enqueue, message_job
from bot.mirror.emoji import is_emoji
from bot.ports import AgentEvent, AgentReaction, WhatsAppProvider
from bot.privacy import redact_text
from bot.routing import Rooms, sending_from
from bot.store import Store, Tx
from bot.store.conversations import ConversationRow
from bot.store.jobs import Job
from bot.store.mirror import MirrorRows
from bot.texts import Texts

log = logging.getLogger("empfang.mirror")

Notify = Callable[[Tx, ConversationRow, str], Awaitable[None]]
MayAct = Callable[[AgentEvent], bool]


class AgentReactions:
    """Records agents' reactions (from the chat adapter) and sends them (a job)."""

    def __init__(
        self,
        store: Store,
        whatsapp: WhatsAppProvider,
        texts: Texts,
        *,
        may_act: MayAct,
        notify: Notify,
        rooms: Rooms,
    ) -> None:
        self._store = store
        self._whatsapp = whatsapp
        self._texts = texts
        self._may_act = may_act
        self._notify = notify
        self._rooms = rooms

    async def on_reaction(self, event: AgentReaction) -> None:
        if event.author_is_self or event.author_is_bot:
            return
        async with self._store.transaction() as tx:
            rows = MirrorRows(tx.conn)
            if event.removed:
                message_id = await rows.remove_agent_reaction(event.reaction_id)
                found = await tx.messages.get(message_id) if message_id is not None else None
                if found is not None:
                    await enqueue(tx, RELAY_REACTION, await message_job(tx, found))
                return
            target = await tx.messages.by_chat_id(event.target_id) if event.target_id else None
            if (
                target is None
                or target.direction != "in"
                or target.provider_id is None
                or target.conversation_id is None
                or target.kind in RELATION_KINDS  # deleted by the customer, or a reaction
            ):
                return  # a reaction among agents: nothing for the customer
            conversation = await tx.conversations.get(target.conversation_id)
            assert conversation is not None
            if not self._rooms.holds(conversation, event.room_id):
                return  # a post of another channel with the same Slack ts
            if not self._may_act(event):
                log.warning("refused reaction %s: author may not answer", event.reaction_id)
                refusal = self._texts.refused_reply.format(author=event.author_name)
                await self._notify(tx, conversation, refusal)
                return
            if event.emoji is None or not is_emoji(event.emoji):
                name = redact_text(event.name, every_digit_run=True)  # free text in Matrix
                await self._notify(
                    tx, conversation, self._texts.reaction_not_sent.format(name=name)
                )
                return
            now = tx.clock.now()
            if await rows.add_agent_reaction(
                event.reaction_id, target.id, event.emoji, event.author_id, now
            ):
                job = MessageJob(
                    message_id=target.id,
                    contact_id=target.contact_id,
                    number_id=conversation.number_id,
                )
                await enqueue(tx, RELAY_REACTION, job)

    async def _explain(self, conversation_id: int | None, error: ProviderError) -> None:
        """A refused reaction (a window long closed, a provider without reactions) is told
        in the thread, as a refused reply is."""
        code = error.code if isinstance(error.code, int) else None
        async with self._store.transaction() as tx:
            conversation = await tx.conversations.get(conversation_id) if conversation_id else None
            if conversation is not None:
                await self._notify(tx, conversation, failure(code, str(error), self._texts))

    async def send(self, job: Job, payload: MessageJob) -> None:
        """``relay.reaction``: make WhatsApp show what the thread shows."""
        async with self._store.transaction() as tx:
            row = await tx.messages.get(payload.message_id)
            contact = await tx.contacts.get(payload.contact_id)
            rows = MirrorRows(tx.conn)
            wanted = await rows.wanted_reaction(payload.message_id)
            sent = await rows.sent_reaction(payload.message_id)
            conversation = (
                await tx.conversations.get(row.conversation_id)
                if row is not None and row.conversation_id is not None
                else None
            )
        if row is None or row.provider_id is None or contact is None or not contact.wa_id:
            return
        if wanted == sent:
            return
        reaction = OutboundReaction(message_id=row.provider_id, emoji=wanted)
        try:
            with sending_from(conversation.number_id if conversation is not None else ""):
                await self._whatsapp.send_reaction(contact.wa_id, reaction)
        except ProviderError as error:
            if error.retryable:
                raise
            log.warning("reaction not sent: %s (code %s)", type(error).__name__, error.code)
            await self._explain(row.conversation_id, error)
            return
        async with self._store.transaction() as tx:
            await MirrorRows(tx.conn).set_sent_reaction(payload.message_id, wanted)
