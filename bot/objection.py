"""Objection (Art. 21 GDPR): a customer who writes a stop keyword gets nothing unprompted.

A customer message that is exactly one of ``privacy.stop_keywords`` (trimmed, any case)
flags the contact (``contacts.objected_at``), sends the configured confirmation once and
tells the thread; one of ``privacy.start_keywords`` lifts the flag. Both are audited with
the customer's pseudonym. While the flag is set Empfang writes to the customer on its own
initiative no more (``bot.own_messages.may_write``: first-contact notice, out-of-hours
reply, templates once they exist), and what it had queued but not sent is withheld.

Agents may still answer the customer's own inquiries: an objection under Art. 21 is to
processing on the ground of legitimate interest, above all direct marketing (21(2)/(3)),
and answering someone's own question within WhatsApp's 24-hour window is neither. The
first reply after an objection therefore goes out, with a note in the thread that says so.
"""

from __future__ import annotations

from bot.audit import AuditAction, AuditEntry, Detail, record
from bot.config import PrivacySection
from bot.domain import InboundMessage, MessageKind
from bot.job_catalog import CHAT_NOTICE, CHAT_ROOT, ConversationJob, NoticeJob, enqueue
from bot.own_messages import EMPFANG_AUTHOR, say_to_customer
from bot.store import Tx
from bot.store.contacts import ContactRow
from bot.store.conversations import ConversationRow
from bot.texts import Texts

WITHHELD = "withheld: the customer objected"
"""Why Empfang's own messages still queued at the objection are never sent."""
CUSTOMER_ACTOR = "customer"
"""The audit trail's actor of what the customer did by writing a keyword."""


def needs_reply_note(contact: ContactRow, conversation: ConversationRow) -> bool:
    """An agent's reply is the first since the customer objected: explain what still goes."""
    objected = contact.objected_at
    return objected is not None and (conversation.last_agent_at or 0.0) < objected


class Objections:
    """Recognises stop and start keywords in customer messages, inside the relay's
    transaction and before anything else hears of the message, so a first message "STOP"
    already silences the first-contact notice."""

    def __init__(self, privacy: PrivacySection, texts: Texts) -> None:
        self._stop = {word.strip().casefold() for word in privacy.stop_keywords if word.strip()}
        self._start = {word.strip().casefold() for word in privacy.start_keywords}
        self._start_word = privacy.start_keywords[0].strip()
        self._confirmation = privacy.stop_confirmation or texts.objection_confirmation.format(
            start=self._start_word
        )
        self._texts = texts

    async def customer_wrote(self, tx: Tx, conversation_id: int, message_id: int) -> None:
        message = await tx.messages.get(message_id)
        if message is None or message.body is None or message.direction != "in":
            return
        if message.kind != MessageKind.TEXT:
            return  # a keyword is a text message; captions and button choices are not
        text = (InboundMessage.model_validate_json(message.body).text or "").strip()
        word = text.casefold()
        if word not in self._stop and word not in self._start:
            return
        conversation = await tx.conversations.get(conversation_id)
        contact = await tx.contacts.get(message.contact_id)
        if conversation is None or contact is None:
            return
        if word in self._stop:
            await self._object(tx, conversation, contact, text)
        else:
            await self._lift(tx, conversation, contact, text)

    async def _object(
        self, tx: Tx, conversation: ConversationRow, contact: ContactRow, keyword: str
    ) -> None:
        if not await tx.contacts.set_objected(contact.id, tx.clock.now()):
            return  # objected already: one confirmation is enough
        await self._audit(tx, "privacy.objection", conversation, contact, keyword)
        await tx.messages.withhold_unsent(contact.id, EMPFANG_AUTHOR, WITHHELD)
        note = self._texts.objection_noted.format(
            keyword=keyword, start=self._start_word, confirmation=self._confirmation
        )
        await say_to_customer(tx, conversation, self._confirmation, note)
        await enqueue(tx, CHAT_ROOT, _root_job(conversation))

    async def _lift(
        self, tx: Tx, conversation: ConversationRow, contact: ContactRow, keyword: str
    ) -> None:
        if not await tx.contacts.set_objected(contact.id, None):
            return  # nothing to lift: START is then an ordinary message
        await self._audit(tx, "privacy.objection_lifted", conversation, contact, keyword)
        text = self._texts.objection_lifted.format(keyword=keyword)
        notice = NoticeJob(
            conversation_id=conversation.id,
            contact_id=contact.id,
            number_id=conversation.number_id,
            text=text,
        )
        await enqueue(tx, CHAT_NOTICE, notice)
        await enqueue(tx, CHAT_ROOT, _root_job(conversation))

    @staticmethod
    async def _audit(
        tx: Tx,
        action: AuditAction,
        conversation: ConversationRow,
        contact: ContactRow,
        keyword: str,
    ) -> None:
        details: dict[str, Detail] = {
            "conversation": conversation.id,
            "keyword": keyword.casefold(),
        }
        entry = AuditEntry(action, CUSTOMER_ACTOR, subject=contact.pseudonym, details=details)
        await record(tx, entry)


def _root_job(conversation: ConversationRow) -> ConversationJob:
    return ConversationJob(
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        number_id=conversation.number_id,
    )
