"""The two shapes a transfer takes on the wire: a JSON document and a plain text.

The JSON document is the webhook body and the JSONL line (schema in README "Case systems");
the text is the Zammad note and the e-mail body. Both are made here so every sink says the
same thing, and a new field reaches all of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.cases.model import Transfer, TransferEvent, TransferMessage, utc_iso
from bot.texts import Texts

SCHEMA = "empfang.case-event/1"

_HEADLINE: dict[TransferEvent, Callable[[Texts], str]] = {
    "opened": lambda texts: texts.case_opened,
    "message_in": lambda texts: texts.case_message_in,
    "message_out": lambda texts: texts.case_message_out,
    "closed": lambda texts: texts.case_conversation_closed,
    "transcript": lambda texts: texts.case_transcript,
    "erased": lambda texts: texts.case_erased,
}


def headline(event: TransferEvent, texts: Texts) -> str:
    """What happened, as a note's subject: the JSON document says it with ``event``."""
    return _HEADLINE[event](texts)


def as_document(transfer: Transfer, *, sink: str, case_id: str | None) -> dict[str, Any]:
    """The JSON case event; its keys are public interface (README), add but never rename."""
    return {
        "schema": SCHEMA,
        "id": transfer.transfer_id,
        "event": transfer.event,
        "sink": sink,
        "occurred_at": utc_iso(transfer.occurred_at),
        "case_id": case_id,
        "conversation": {
            "id": transfer.conversation_id,
            "requester": transfer.requester,
            "phone": transfer.phone,
            "opened_at": utc_iso(transfer.opened_at),
            "closed_at": utc_iso(transfer.closed_at) if transfer.closed_at else None,
        },
        "messages": [_message_document(m) for m in transfer.messages],
        "data_categories": list(transfer.categories),
    }


def as_json(transfer: Transfer, *, sink: str, case_id: str | None) -> bytes:
    """The document as compact UTF-8 JSON: the exact bytes a webhook signs and JSONL stores."""
    document = as_document(transfer, sink=sink, case_id=case_id)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _message_document(message: TransferMessage) -> dict[str, Any]:
    return {
        "id": message.message_id,
        "direction": message.direction,
        "at": utc_iso(message.at),
        "kind": message.kind,
        "text": message.text,
        "author": message.author,
    }


def title(transfer: Transfer, texts: Texts) -> str:
    """Ticket title / e-mail subject: the pseudonym, never the number (titles travel far)."""
    return texts.case_title.format(
        requester=transfer.requester, conversation=transfer.conversation_id
    )


def as_text(transfer: Transfer, texts: Texts) -> str:
    """A plain-text rendering for humans reading the case."""
    lines = [f"{headline(transfer.event, texts)} — WhatsApp {transfer.requester}"]
    if transfer.phone:
        lines.append(texts.case_phone.format(phone=transfer.phone))
    lines.append(texts.case_time.format(time=utc_iso(transfer.occurred_at)))
    for message in transfer.messages:
        if message.direction == "in":
            who = texts.case_customer
        else:
            who = texts.case_agent.format(author=message.author or "").strip()
        lines += ["", f"[{utc_iso(message.at)}] {who}:", message.text]
    return "\n".join(lines) + "\n"
