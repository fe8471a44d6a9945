"""One person's data as JSON (Art. 15 access, Art. 20 portability).

The person is found by pseudonym or number; every part of the document is read by their
contact id or pseudonym, so nothing of another customer can slip in through a similar text.
What belongs to third parties is left out or reduced: agents appear as "agent" (who on the
team answered is staff data, not the customer's), and contact cards the person shared show
initials and masked numbers, as in the chat. The export itself is audited, in the same
transaction that reads the data, so its own audit row is part of the document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.alerts.oncall import EMPFANG_AUTHOR
from bot.audit import AuditEntry, record
from bot.cases.model import utc_iso
from bot.errors import EmpfangError
from bot.privacy import initials, mask_number
from bot.store import Tx
from bot.store.audit import AuditRow
from bot.store.cases import LedgerRow
from bot.store.contacts import ContactRow
from bot.store.messages import MessageRow

SCHEMA = "empfang.subject-export/1"


class SubjectNotFound(EmpfangError):
    """No contact has the pseudonym or number asked for."""


@dataclass(frozen=True)
class Subject:
    """Whom to export: a pseudonym (``K-…``) or a number's digits (never printed)."""

    pseudonym: str | None = None
    wa_id: str | None = None

    @classmethod
    def parse(cls, written: str) -> Subject:
        """``K-ABC123`` as a pseudonym; ``+49 151 …`` or ``0049151…`` as a number."""
        text = written.strip()
        if text.upper().startswith("K-"):
            return cls(pseudonym="K-" + text[2:].upper())
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits.startswith("00"):
            digits = digits[2:]
        if not text.startswith(("+", "00")) or len(digits) < 7:
            raise ValueError("give a pseudonym (K-…) or the number in international form (+49…)")
        return cls(wa_id=digits)

    def __str__(self) -> str:
        return self.pseudonym or mask_number(self.wa_id or "")


async def export_subject(tx: Tx, subject: Subject, actor: str) -> dict[str, Any]:
    """The whole document; records ``privacy.export`` in ``tx`` first."""
    contacts = await tx.subjects.contacts(pseudonym=subject.pseudonym, wa_id=subject.wa_id)
    if not contacts:
        raise SubjectNotFound(f"no contact {subject} in the store")
    pseudonyms = sorted({contact.pseudonym for contact in contacts})
    people = [await _contact(tx, contact) for contact in contacts]
    counts = {
        "conversations": sum(len(p["conversations"]) for p in people),
        "messages": sum(len(p["messages"]) for p in people),
    }
    for pseudonym in pseudonyms:
        await record(tx, AuditEntry("privacy.export", actor, subject=pseudonym, details=counts))
    transfers = [row for p in pseudonyms for row in await tx.cases.ledger.where("pseudonym", p)]
    audits = [row for p in pseudonyms for row in await tx.audit.where("subject", p)]
    return {
        "schema": SCHEMA,
        "exported_at": utc_iso(tx.clock.now()),
        "contacts": people,
        "transfers": [_transfer(row) for row in transfers],
        "audit": [_audit(row) for row in audits],
    }


async def _contact(tx: Tx, contact: ContactRow) -> dict[str, Any]:
    conversations = await tx.subjects.conversations(contact.id)
    links = await tx.subjects.case_links(contact.id)
    events = await tx.subjects.status_events(contact.id)
    return {
        "pseudonym": contact.pseudonym,
        "number": f"+{contact.wa_id}" if contact.wa_id else None,
        "whatsapp_user_id": contact.user_id,
        "profile_name": contact.profile_name,
        "region": contact.region,
        "privacy_notice_sent_at": _time(contact.notice_sent_at),
        "conversations": [
            {
                "id": c.id,
                "state": c.state,
                "opened_at": utc_iso(c.opened_at),
                "closed_at": _time(c.closed_at),
                "cases": [
                    {"system": link.sink, "case_id": link.case_id, "label": link.case_label}
                    for link in links
                    if link.conversation_id == c.id
                ],
            }
            for c in conversations
        ],
        "messages": [_message(m) for m in await tx.subjects.messages(contact.id)],
        "delivery_receipts": [
            {
                "message": e.provider_id,
                "status": e.status,
                "time": utc_iso(e.timestamp),
                "error_code": e.error_code,
                "error_title": e.error_title,
            }
            for e in events
        ],
    }


def _message(message: MessageRow) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": message.id,
        "conversation": message.conversation_id,
        "direction": "from_customer" if message.direction == "in" else "to_customer",
        "time": utc_iso(message.created_at),
        "kind": message.kind,
        "whatsapp_id": message.provider_id,
    }
    if message.direction == "in":
        shown["content"] = _inbound_content(message.body)
    else:
        shown["text"] = message.body
        shown["sent_by"] = "empfang" if message.author == EMPFANG_AUTHOR else "agent"
        shown["delivery_status"] = message.status
        shown["error_code"] = message.error_code
        shown["error_title"] = message.error_title
    return shown


def _inbound_content(body: str | None) -> dict[str, Any] | None:
    """The stored allow-listed fields, without the placeholder sender and with the
    contact cards of third parties reduced to what the chat shows."""
    if body is None:
        return None  # purged under the retention policy
    content: dict[str, Any] = json.loads(body)
    content.pop("sender", None)
    content.pop("provider_id", None)
    if "contacts" in content:
        content["contacts"] = [
            {
                "initials": initials(card.get("name", "")),
                "phones": [
                    mask_number(phone.get("number", "")) for phone in card.get("phones", [])
                ],
            }
            for card in content["contacts"]
        ]
    return content


def _transfer(row: LedgerRow) -> dict[str, Any]:
    return {
        "time": row.time,
        "system": row.sink,
        "case_id": row.case_id,
        "event": row.event,
        "data": row.categories.split(","),
        "outcome": row.outcome,
    }


def _audit(row: AuditRow) -> dict[str, Any]:
    """Without ``actor``: which staff member acted is staff data, not the customer's."""
    return {
        "time": row.time,
        "action": row.action,
        "reason": row.reason,
        "details": json.loads(row.details),
    }


def _time(timestamp: float | None) -> str | None:
    return None if timestamp is None else utc_iso(timestamp)
