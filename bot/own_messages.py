"""What Empfang itself writes to a customer (first-contact notice, out-of-hours reply, the
objection's confirmation), sent like an agent's reply.

Such a message is "unprompted" in the sense of Art. 21: a customer who objected
(``ContactRow.objected_at``) gets none, which :func:`may_write` decides in one place for
everything that writes on Empfang's own initiative, templates included once they exist.
"""

from __future__ import annotations

from bot.job_catalog import CHAT_NOTICE, RELAY_OUTBOUND, MessageJob, NoticeJob, enqueue
from bot.store import Tx
from bot.store.contacts import ContactRow
from bot.store.conversations import ConversationRow

EMPFANG_AUTHOR = "empfang"
"""The ``author`` of stored messages Empfang wrote itself (agents' have their chat id)."""


def may_write(contact: ContactRow) -> bool:
    """Whether Empfang may write to the customer on its own: not after an objection."""
    return contact.objected_at is None


async def say_to_customer(tx: Tx, conversation: ConversationRow, text: str, note: str) -> None:
    """Store ``text`` as Empfang's message and enqueue its send; ``note`` tells the thread."""
    message_id = await tx.messages.insert_outbound(
        contact_id=conversation.contact_id,
        conversation_id=conversation.id,
        chat_id=None,
        body=text,
        author=EMPFANG_AUTHOR,
        now=tx.clock.now(),
    )
    assert message_id is not None  # no chat id: nothing to be a duplicate of
    contact_id, number_id = conversation.contact_id, conversation.number_id
    send = MessageJob(message_id=message_id, contact_id=contact_id, number_id=number_id)
    await enqueue(tx, RELAY_OUTBOUND, send)
    notice = NoticeJob(
        conversation_id=conversation.id, contact_id=contact_id, number_id=number_id, text=note
    )
    await enqueue(tx, CHAT_NOTICE, notice)
