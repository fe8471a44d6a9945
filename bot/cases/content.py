"""Build a :class:`~bot.cases.model.Transfer` from the store, reduced to what a sink may get.

This runs when the transfer job runs, not when the event happened, so a retried transfer
always reflects the store as it is (a purged body is not resurrected from a job payload, and
job payloads never carry message text).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import render
from bot.cases.model import Transfer, TransferEvent, TransferMessage
from bot.config import PrivacySection
from bot.config.cases import CaseSinkSection
from bot.domain import Frozen, MessageKind
from bot.store import Tx
from bot.store.contacts import ContactRow
from bot.store.conversations import ConversationRow
from bot.store.messages import MessageRow
from bot.texts import Texts

CATEGORY_ORDER = ("pseudonym", "phone", "text", "media", "location", "contact_card")
"""Data categories a transfer can carry, in the order the ledger lists them."""

_KIND_CATEGORY = {
    MessageKind.LOCATION: "location",
    MessageKind.CONTACTS: "contact_card",
}
"""A picture or document travels as its line of text (kind, masked name, caption); the
category ``media`` is added only when the file itself is attached (``include_media``,
``bot.media.case_files``)."""


class TransferRequest(Frozen):
    """The payload of a ``case.transfer`` job: ids only, never content."""

    transfer_id: str
    sink: str
    event: TransferEvent
    conversation_id: int
    message_id: int | None = None


@dataclass(frozen=True)
class _Verbatim(render.Masker):
    """For sinks with ``include_phone``: the customer's text goes as written."""

    def text(self, text: str, *, every_digit_run: bool = False) -> str:
        return text


async def load_transfer(
    tx: Tx,
    request: TransferRequest,
    sink: CaseSinkSection,
    privacy: PrivacySection,
    texts: Texts,
) -> Transfer | None:
    """The transfer for ``request``; None if the conversation no longer exists (erased)."""
    conversation = await tx.conversations.get(request.conversation_id)
    if conversation is None:
        return None
    contact = await tx.contacts.get(conversation.contact_id)
    if contact is None:
        return None
    reveal = sink.include_phone and contact.wa_id is not None
    masker_type = _Verbatim if reveal else render.Masker
    masker = masker_type.for_contact(contact, privacy)
    rows = await _rows(tx, request, conversation)
    messages = tuple(_message(row, contact, masker, texts) for row in rows)
    categories = {"phone" if reveal else "pseudonym"}
    categories.update(_category(row) for row in rows if row.body is not None)
    return Transfer(
        transfer_id=request.transfer_id,
        event=request.event,
        conversation_id=conversation.id,
        requester=contact.pseudonym,
        phone=f"+{contact.wa_id}" if reveal else None,
        opened_at=conversation.opened_at,
        closed_at=conversation.closed_at,
        occurred_at=_occurred(request.event, conversation, rows),
        messages=messages,
        categories=tuple(c for c in CATEGORY_ORDER if c in categories),
    )


async def _rows(tx: Tx, request: TransferRequest, conv: ConversationRow) -> list[MessageRow]:
    if request.event == "transcript":
        return await tx.messages.in_conversation(conv.id)
    if request.message_id is None:
        return []
    row = await tx.messages.get(request.message_id)
    return [row] if row is not None else []


def _occurred(event: TransferEvent, conv: ConversationRow, rows: list[MessageRow]) -> float:
    if event in ("message_in", "message_out") and rows:
        return rows[0].created_at
    if event in ("closed", "transcript") and conv.closed_at is not None:
        return conv.closed_at
    return conv.opened_at


def _message(
    row: MessageRow, contact: ContactRow, masker: render.Masker, texts: Texts
) -> TransferMessage:
    if row.body is None:
        text = texts.case_purged
    elif row.direction == "in":
        text = render.inbound(row.inbound(contact.sender), masker, texts)
    else:
        text = masker.text(row.body)
    return TransferMessage(
        message_id=row.id,
        direction="in" if row.direction == "in" else "out",
        at=row.created_at,
        kind=row.kind,
        text=text,
        author=row.author,
    )


def _category(row: MessageRow) -> str:
    if row.direction == "out":
        return "text"
    try:
        return _KIND_CATEGORY.get(MessageKind(row.kind), "text")
    except ValueError:
        return "text"
