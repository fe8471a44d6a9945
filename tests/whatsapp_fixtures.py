"""Webhook bodies built from the documented shapes in tests/fixtures/whatsapp/."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
MESSAGES: dict[str, dict[str, Any]] = json.loads((FIXTURES / "messages.json").read_text("utf-8"))
STATUSES: dict[str, dict[str, Any]] = json.loads((FIXTURES / "statuses.json").read_text("utf-8"))


def envelope(
    *, messages: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    # Copies: tests change the envelope they get, which must not change the shared fixtures.
    messages, statuses = copy.deepcopy((messages, statuses))
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
    }
    if messages is not None:
        value["contacts"] = [
            {"profile": {"name": "Erika Mustermann"}, "wa_id": m["from"]}
            for m in messages
            if "from" in m
        ]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }


def body(doc: dict[str, Any]) -> bytes:
    """Serialised the way Meta does: escaped unicode, no spaces; sign exactly these bytes."""
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode()
