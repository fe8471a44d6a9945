"""The 24-hour customer service window, as the bot knows it: it closes 24 hours after the
customer's last message (``ConversationRow.last_customer_at``); only templates go after.

A free-form reply after that is not sent (``bot.relay``); the thread says so and suggests
``[whatsapp] reengage_template``. The root card shows a closed window: :class:`WindowWatch`
keeps one delayed ``chat.window`` job per conversation, which re-renders the root when the
window has closed.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import SERVICE_WINDOW_SECONDS
from bot.job_catalog import (
    CHAT_ROOT,
    CHAT_WINDOW,
    ConversationJob,
    WindowJob,
    enqueue,
    schedule,
)
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


def refusal(
    conversation: ConversationRow,
    texts: Texts,
    *,
    reengage: str,
    timezone: str,
    templates: bool = True,
) -> str:
    """Why a free-form reply was not sent, and what to send instead; with ``templates``
    False (the conversation's number cannot send them: Twilio), to wait for the customer."""
    closes = datetime.fromtimestamp(closes_at(conversation) or 0.0, ZoneInfo(timezone))
    if not templates:
        suggestion = texts.window_suggest_wait
    elif reengage:
        suggestion = texts.window_suggest_template.format(command=f"!template {reengage}")
    else:
        suggestion = texts.window_suggest_list
    return texts.window_closed_reply.format(closes=f"{closes:%d.%m. %H:%M}", suggestion=suggestion)


class WindowWatch:
    """Keeps one ``chat.window`` timer per conversation at its window's close.

    Armed when a conversation opens and whenever its root is rendered again (which a
    customer message after a pause of 30 minutes or more does, ``bot.relay``); a timer that
    finds the window moved by later messages moves itself. Nothing per message: the relay's
    hot path stays as it is (``tests/relay/test_store_work.py``).
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    async def record(self, tx: Tx, event: CaseEvent) -> None:
        """A conversation observer: a new conversation's window closes in 24 hours."""
        if event.kind == "opened":
            await _watch(tx, event.conversation_id, SERVICE_WINDOW_SECONDS + SETTLE_SECONDS)

    async def rearm(self, tx: Tx, conversation: ConversationRow) -> None:
        """The root is rendered again: the timer goes to the window's (new) close."""
        closes = closes_at(conversation)
        now = tx.clock.now()
        if conversation.is_open and closes is not None and closes > now:
            await _watch(tx, conversation.id, closes - now + SETTLE_SECONDS)

    async def window_due(self, job: Job, payload: WindowJob) -> None:
        """``chat.window``: the window should have closed; show it, or wait longer."""
        async with self._store.transaction() as tx:
            conversation = await tx.conversations.get(payload.conversation_id)
            if conversation is None or not conversation.is_open:
                return
            closes = closes_at(conversation)
            now = tx.clock.now()
            if closes is not None and closes > now:  # the customer wrote since
                await _watch(tx, conversation.id, closes - now + SETTLE_SECONDS)
                return
            root = ConversationJob(
                conversation_id=conversation.id,
                contact_id=conversation.contact_id,
                number_id=conversation.number_id,
            )
            await enqueue(tx, CHAT_ROOT, root)


async def _watch(tx: Tx, conversation_id: int, delay: float) -> None:
    await schedule(tx, CHAT_WINDOW, WindowJob(conversation_id=conversation_id), delay=delay)
