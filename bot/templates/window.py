"""The 24-hour customer service window, as the bot knows it: it closes 24 hours after the
customer's last message (``ConversationRow.last_customer_at``); only templates go after.

A free-form reply after that is not sent (``bot.relay``); the thread says so and suggests
``[whatsapp] reengage_template``. The root card shows a closed window: :class:`WindowWatch`
sets one delayed ``chat.window`` job per window, which re-renders the root when the window
has closed, or waits for the moved window when the customer wrote again.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import SERVICE_WINDOW_SECONDS
from bot.job_catalog import CHAT_ROOT, CHAT_WINDOW, ConversationJob, enqueue
from bot.ports import CaseEvent
from bot.store import Store, Tx
from bot.store.conversations import ConversationRow
from bot.store.jobs import Job
from bot.texts import Texts

SETTLE_SECONDS = 1.0
"""The root is re-rendered this long after the window closed, so it is closed by then."""


def closes_at(conversation: ConversationRow) -> float | None:
    """When the window closes; None before the customer's first message was posted."""
    if conversation.last_customer_at is None:
        return None
    return conversation.last_customer_at + SERVICE_WINDOW_SECONDS


def is_closed(conversation: ConversationRow, now: float) -> bool:
    closes = closes_at(conversation)
    return closes is not None and closes <= now


def refusal(conversation: ConversationRow, texts: Texts, *, reengage: str, timezone: str) -> str:
    """Why a free-form reply was not sent, and what to send instead."""
    closes = datetime.fromtimestamp(closes_at(conversation) or 0.0, ZoneInfo(timezone))
    suggestion = (
        texts.window_suggest_template.format(command=f"!template {reengage}")
        if reengage
        else texts.window_suggest_list
    )
    return texts.window_closed_reply.format(closes=f"{closes:%d.%m. %H:%M}", suggestion=suggestion)


class WindowWatch:
    """A conversation observer: a customer message that opens a window (the first, or
    one after the previous window closed) sets the ``chat.window`` job for its close."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def record(self, tx: Tx, event: CaseEvent) -> None:
        if event.kind != "message_in":
            return
        conversation = await tx.conversations.get(event.conversation_id)
        if conversation is None:
            return
        # Recorded before the relay stores this message's time: the previous message's.
        previous_close = closes_at(conversation)
        now = tx.clock.now()
        if previous_close is None or previous_close <= now:
            await _watch(tx, conversation, SERVICE_WINDOW_SECONDS + SETTLE_SECONDS)

    async def window_due(self, job: Job, payload: ConversationJob) -> None:
        """``chat.window``: the window should have closed; show it, or wait longer."""
        async with self._store.transaction() as tx:
            conversation = await tx.conversations.get(payload.conversation_id)
            if conversation is None or not conversation.is_open:
                return
            closes = closes_at(conversation)
            now = tx.clock.now()
            if closes is not None and closes > now:  # the customer wrote again
                await _watch(tx, conversation, closes - now + SETTLE_SECONDS)
                return
            await enqueue(tx, CHAT_ROOT, _job(conversation))


def _job(conversation: ConversationRow) -> ConversationJob:
    return ConversationJob(conversation_id=conversation.id, contact_id=conversation.contact_id)


async def _watch(tx: Tx, conversation: ConversationRow, delay: float) -> None:
    await enqueue(tx, CHAT_WINDOW, _job(conversation), delay=delay)
