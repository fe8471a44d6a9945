"""Webhooks for business numbers that are not configured: acknowledged, stored nowhere.

Meta sends every number subscribed to the app to the same URL; before this check a second
number's customers were stored, relayed and answered from the configured number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot.app import Empfang
from bot.config import Settings
from bot.config.numbers import NumberEntry
from tests.conftest import SECRETS
from tests.integration.test_webhook_http import bot as bot  # the fixture
from tests.integration.test_webhook_http import post, rows
from tests.whatsapp_fixtures import MESSAGES, STATUSES, body, envelope

OURS = SECRETS["phone_number_id"]
FOREIGN = "209876543210987"
SECOND = "106540352249999"
"""A second number of the same Meta app, configured in ``[[numbers]]``."""
TABLES = ("messages", "jobs", "contacts", "status_events", "unsupported_events")


def for_number(doc: dict[str, Any], number_id: str | None) -> dict[str, Any]:
    """``doc``'s change addressed to ``number_id`` (None: a change without metadata)."""
    value = doc["entry"][0]["changes"][0]["value"]
    if number_id is None:
        del value["metadata"]
    else:
        value["metadata"]["phone_number_id"] = number_id
    return doc


def stored(app: Empfang) -> dict[str, int]:
    return {table: rows(app, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


async def metrics(app: Empfang) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{app.url}/metrics")).text


@pytest.mark.parametrize("number_id", [FOREIGN, None, ""])
async def test_messages_for_another_number_are_acknowledged_and_stored_nowhere(
    bot: Empfang, number_id: str | None
) -> None:
    doc = for_number(envelope(messages=[MESSAGES["text"], MESSAGES["image"]]), number_id)
    response = await post(bot, body(doc))
    assert response.status_code == 200
    assert stored(bot) == dict.fromkeys(TABLES, 0)
    assert 'empfang_messages_total{outcome="not_ours"} 2.0' in await metrics(bot)


async def test_statuses_for_another_number_are_dropped_too(bot: Empfang) -> None:
    doc = for_number(envelope(statuses=[STATUSES["sent"], STATUSES["failed"]]), FOREIGN)
    assert (await post(bot, body(doc))).status_code == 200
    assert stored(bot) == dict.fromkeys(TABLES, 0)
    assert 'empfang_statuses_total{outcome="not_ours"} 2.0' in await metrics(bot)


async def test_mixed_envelope_keeps_ours_and_drops_the_other(bot: Empfang) -> None:
    ours = envelope(messages=[MESSAGES["text"]])
    theirs = for_number(envelope(messages=[dict(MESSAGES["image"], id="wamid.theirs")]), FOREIGN)
    ours["entry"].append(theirs["entry"][0])
    assert (await post(bot, body(ours))).status_code == 200
    assert rows(bot, "SELECT provider_id FROM messages") == [(MESSAGES["text"]["id"],)]
    assert rows(bot, "SELECT kind FROM jobs") == [("relay.inbound",)]
    text = await metrics(bot)
    assert 'empfang_messages_total{outcome="new"} 1.0' in text
    assert 'empfang_messages_total{outcome="not_ours"} 1.0' in text


async def test_account_wide_changes_without_a_number_are_still_kept(bot: Empfang) -> None:
    """Template status and account updates name no number; they are not another number's."""
    doc = envelope(messages=[MESSAGES["text"]])
    doc["entry"][0]["changes"].append({"field": "account_update", "value": {"x": 1}})
    assert (await post(bot, body(doc))).status_code == 200
    assert rows(bot, "SELECT field FROM unsupported_events") == [("account_update",)]


async def test_each_foreign_number_is_logged_once_without_content(
    bot: Empfang, caplog: pytest.LogCaptureFixture
) -> None:
    text = dict(MESSAGES["text"], text={"body": "geheimer Inhalt"})
    for _ in range(3):
        await post(bot, body(for_number(envelope(messages=[text]), FOREIGN)))
    await post(bot, body(for_number(envelope(statuses=[STATUSES["read"]]), "300000000000042")))
    lines = [r.getMessage() for r in caplog.records if "not configured here" in r.getMessage()]
    assert len(lines) == 2
    assert "…0987" in lines[0] and "…0042" in lines[1]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "geheimer" not in logged and FOREIGN not in logged
    assert 'empfang_messages_total{outcome="not_ours"} 3.0' in await metrics(bot)


async def test_every_configured_number_is_ours(make_settings: Callable[..., Settings]) -> None:
    """With ``[[numbers]]``, webhooks for each listed number are taken; others still not."""
    settings = make_settings()
    settings.numbers = [NumberEntry(phone_number_id=OURS), NumberEntry(phone_number_id=SECOND)]
    app = Empfang(settings, intake_only=True)
    await app.start()
    try:
        for number_id, wamid in ((OURS, "wamid.a"), (SECOND, "wamid.b"), (FOREIGN, "wamid.c")):
            doc = envelope(messages=[dict(MESSAGES["text"], id=wamid)])
            assert (await post(app, body(for_number(doc, number_id)))).status_code == 200
        assert rows(app, "SELECT provider_id FROM messages ORDER BY id") == [
            ("wamid.a",),
            ("wamid.b",),
        ]
    finally:
        await app.stop()
