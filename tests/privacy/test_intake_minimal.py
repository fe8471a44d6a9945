"""Privacy checklist items 1 and 3 (Art. 5(1)(c), 25): Empfang takes in only what the Cloud
API pushes to its webhook, and stores only the allow-listed fields of it."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.app import Empfang
from bot.config import Settings
from tests.integration.test_webhook_http import post, rows
from tests.whatsapp_fixtures import MESSAGES, body, envelope

ROOT = Path(__file__).resolve().parents[2]
GRAPH_PATH = re.compile(r"""f?["'][^"'\n]*\}/([a-z_]+)["']""")
"""A Graph request path in the code: ``f"{self._phone_number_id}/messages"`` gives ``messages``."""


def _graph_endpoints() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted([*(ROOT / "adapters").rglob("*.py"), *(ROOT / "bot").rglob("*.py")]):
        for endpoint in GRAPH_PATH.findall(path.read_text("utf-8")):
            found.setdefault(endpoint, set()).add(str(path.relative_to(ROOT)))
    return found


def test_no_contact_sync_endpoint_is_ever_requested() -> None:
    """Item 1: no code path reads a contact list (the on-premises API's ``/contacts``)."""
    endpoints = _graph_endpoints()
    # The scan sees the adapter's real requests, so it would see a contacts request too.
    assert "adapters/whatsapp/cloud.py" in endpoints["messages"]
    assert "adapters/whatsapp/upload.py" in endpoints["media"]
    assert "contacts" not in endpoints
    for path in [*(ROOT / "adapters").rglob("*.py"), *(ROOT / "bot").rglob("*.py")]:
        assert "/contacts" not in path.read_text("utf-8"), path


def _full(name: str, **extra: Any) -> dict[str, Any]:
    """A fixture message with more than Empfang needs in its typed object."""
    message: dict[str, Any] = json.loads(json.dumps(MESSAGES[name]))
    message[message["type"]] = _deep_extend(message[message["type"]], extra)
    return message


def _deep_extend(value: Any, extra: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_deep_extend(item, extra) for item in value]
    return {**value, **extra}


DROPPED = {
    "emails": [{"email": "chandler@example.com", "type": "WORK"}],
    "birthday": "1968-04-08",
    "addresses": [{"street": "Lindenstraße 7", "city": "Köln", "type": "HOME"}],
    "org": {"company": "Beispiel GmbH", "title": "Einkauf"},
    "urls": [{"url": "https://chandler.example.org", "type": "WORK"}],
    "sha512_unknown": "field-meta-may-add-later",
}


async def test_a_full_payload_is_stored_as_exactly_the_allow_listed_fields(
    make_settings: Callable[..., Settings],
) -> None:
    """Item 3: whatever else Meta sends (e-mail, birthday, address, employer, links in a
    contact card; fields it may add later), the store keeps the allow-listed fields only."""
    messages = [
        _full("contacts", **DROPPED),
        _full("image", **DROPPED),
        _full("location", **DROPPED),
        _full("text", **DROPPED),
    ]
    delivery = envelope(messages=messages)
    number_id = delivery["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"]
    bot = Empfang(make_settings(), intake_only=True)
    await bot.start()
    try:
        assert (await post(bot, body(delivery))).status_code == 200
    finally:
        await bot.stop()
    stored = [json.loads(b) for (b,) in rows(bot, "SELECT body FROM messages ORDER BY id")]
    placeholder = {"wa_id": "0"}  # the number lives in contacts only
    assert stored == [
        {
            "provider_id": "wamid.contacts1",
            "sender": placeholder,
            "number_id": number_id,  # which business number, Meta's id
            "timestamp": 1749416392,
            "kind": "contacts",
            "contacts": [
                {
                    "name": "Chandler Bing",
                    "phones": [{"number": "+49 176 12345678", "kind": "CELL"}],
                }
            ],
        },
        {
            "provider_id": "wamid.image1",
            "sender": placeholder,
            "number_id": number_id,  # which business number, Meta's id
            "timestamp": 1749416384,
            "kind": "image",
            "media": {
                "media_id": "65463453",
                "mime_type": "image/jpeg",
                "sha256": "m04pFf2E0dSDI=",
                "caption": "optional",
            },
        },
        {
            "provider_id": "wamid.loc1",
            "sender": placeholder,
            "number_id": number_id,  # which business number, Meta's id
            "timestamp": 1749416390,
            "kind": "location",
            "location": {
                "latitude": 37.4611978,
                "longitude": -122.2164385,
                "name": "Facebook HQ",
                "address": "1 Hacker Way, Menlo Park, CA 94025",
            },
        },
        {
            "provider_id": MESSAGES["text"]["id"],
            "sender": placeholder,
            "number_id": number_id,  # which business number, Meta's id
            "timestamp": 1749416383,
            "kind": "text",
            "text": "Does it come in another color?",
        },
    ]
    with sqlite3.connect(bot.settings.store.path) as conn:
        dump = "\n".join(conn.iterdump())
    for dropped in ("chandler@example.com", "1968-04-08", "Lindenstraße", "Beispiel GmbH"):
        assert dropped not in dump
    assert "chandler.example.org" not in dump and "field-meta-may-add-later" not in dump
    assert "https://example.com" not in dump, "the location's url is not on the list"
