"""Inputs an outside probe (2026-12-02) answered with 503, which Meta redelivers for seven
days, or took whole when they were no Meta delivery: signed envelopes over real HTTP into
a real SQLite file. Each is the input's fault: a 4xx or a 200 that stores what is usable."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.whatsapp.parse import MAX_ITEMS, MAX_REPAIR_VALUES, MAX_UPDATES
from bot.app import Empfang
from bot.config import Settings
from tests.conftest import SECRETS
from tests.integration.test_webhook_http import post, rows, stored_rows
from tests.whatsapp_fixtures import MESSAGES, STATUSES, body, envelope

TABLES = ("messages", "jobs", "contacts", "status_events", "unsupported_events")
OURS = SECRETS["phone_number_id"]


def nothing_stored(app: Empfang) -> bool:
    return all(rows(app, f"SELECT count(*) FROM {t}") == [(0,)] for t in TABLES)


def change(field: Any, value: Any) -> dict[str, Any]:
    return {"field": field, "value": value}


def delivery(*changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": list(changes)}],
    }


def metadata(number: str = OURS) -> dict[str, Any]:
    return {"display_phone_number": "15550783881", "phone_number_id": number}


@pytest.mark.parametrize(
    "header",
    [
        ("sha256=" + "é" * 64).encode(),  # UTF-8: aiohttp reads "é"
        b"sha256=" + b"\xe9" * 64,  # Latin-1: aiohttp reads a surrogate escape
        ("sha256=" + "\u0661" * 64).encode(),  # Arabic-Indic digits
        b"sha256=" + b"\xff" * 10,
        ("sha256=" + "A" * 64).encode(),
    ],
)
async def test_a_signature_header_that_is_no_signature_is_403(bot: Empfang, header: bytes) -> None:
    """Probe 2a: a header with characters outside ASCII made hmac.compare_digest raise
    TypeError, answered 503."""
    raw = body(envelope(messages=[MESSAGES["text"]]))
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{bot.url}/webhooks/whatsapp",
            content=raw,
            headers=[(b"Content-Type", b"application/json"), (b"X-Hub-Signature-256", header)],
        )
    assert answer.status_code == 403, answer.text
    assert nothing_stored(bot)


@pytest.mark.parametrize("field", [[], {}, [None], 5, 1.5, True, None, {"a": [1]}])
@pytest.mark.parametrize("named", [True, False])
async def test_a_field_of_any_type_is_an_unsupported_event(
    bot: Empfang, field: Any, named: bool
) -> None:
    """Probe 2c: a list or object as ``field`` was unhashable in the check for another
    business number (503, and no log line). It is an unknown field: kept as unsupported."""
    value: dict[str, Any] = {"event": "APPROVED"}
    if named:
        value["metadata"] = metadata()
    answer = await post(bot, body(delivery(change(field, value))))
    assert answer.status_code == 200, answer.text
    assert rows(bot, "SELECT count(*) FROM unsupported_events") == [(1,)]


@pytest.mark.parametrize("latitude", [10**400, -(10**400), "1e400", [52.5], {"lat": 1}, None, True])
async def test_a_location_of_any_number_is_stored_as_unsupported(
    bot: Empfang, latitude: Any
) -> None:
    """An integer too large for a float raised OverflowError (a 503); off the globe or not
    a number, the message is an unsupported one (a bool is 0 or 1, a place on the globe)."""
    message = dict(MESSAGES["location"], location={"latitude": latitude, "longitude": 13.4})
    assert (await post(bot, body(envelope(messages=[message])))).status_code == 200
    expected = "location" if latitude is True else "unsupported"
    assert rows(bot, "SELECT kind FROM messages") == [(expected,)]


def echo(timestamp: Any, provider_id: str = "wamid.echo1") -> dict[str, Any]:
    return {
        "from": "15550783881",
        "to": "4915112345678",
        "id": provider_id,
        "timestamp": timestamp,
        "type": "text",
        "text": {"body": "Gern, bis morgen"},
    }


def echoes(*items: dict[str, Any]) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp", "metadata": metadata(), "message_echoes": [*items]}
    return delivery(change("smb_message_echoes", value))


@pytest.mark.parametrize(
    "timestamp",
    [str(2**63), 2**63, 2**70, 10**20, -(2**63) - 1, "-9223372036854775809", "0", -5, "1"],
)
async def test_echo_times_out_of_range_become_the_receive_time(
    bot: Empfang, timestamp: str | int
) -> None:
    """Probe 2d: an echo's time beyond SQLite's INTEGER raised OverflowError in the store
    (503); the range repair covered messages and receipts only."""
    assert (await post(bot, body(echoes(echo(timestamp))))).status_code == 200
    [(sent_at, created_at)] = rows(bot, "SELECT sent_at, created_at FROM messages")
    assert sent_at == int(created_at)


async def test_an_echo_time_in_range_is_kept(bot: Empfang) -> None:
    assert (await post(bot, body(echoes(echo("1749416383"))))).status_code == 200
    assert rows(bot, "SELECT sent_at FROM messages") == [(1749416383,)]


def unknown_fields(count: int) -> dict[str, Any]:
    return delivery(*(change(f"f{i}", {}) for i in range(count)))


def foreign_changes(count: int) -> dict[str, Any]:
    value = {"metadata": metadata("209876543210987"), "messages": []}
    return delivery(*(change("messages", value) for _ in range(count)))


def entries(count: int) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"changes": []}] * count}


def profiles(count: int) -> dict[str, Any]:
    doc = envelope(messages=[MESSAGES["text"]])
    doc["entry"][0]["changes"][0]["value"]["contacts"] *= count
    return doc


def shared_cards(count: int) -> dict[str, Any]:
    card = {"name": {"formatted_name": "Chandler Bing"}, "phones": []}
    return envelope(messages=[dict(MESSAGES["contacts"], contacts=[card] * count)])


def order_items(count: int) -> dict[str, Any]:
    order = dict(MESSAGES["order"]["order"], product_items=[{"quantity": 1}] * count)
    return envelope(messages=[dict(MESSAGES["order"], order=order)])


def many_echoes(count: int) -> dict[str, Any]:
    return echoes(*(echo("1749416383", f"wamid.e{i}") for i in range(count)))


@pytest.mark.parametrize(
    ("build", "count"),
    [
        (unknown_fields, MAX_ITEMS),
        (foreign_changes, MAX_ITEMS),
        (entries, MAX_ITEMS + 1),
        (profiles, MAX_ITEMS),
        (shared_cards, MAX_ITEMS),
        (order_items, MAX_ITEMS),
        (many_echoes, MAX_UPDATES + 1),
    ],
)
async def test_more_items_than_a_meta_delivery_holds_is_413(
    bot: Empfang, build: Callable[[int], dict[str, Any]], count: int
) -> None:
    """Probe 6: the cap counted messages and receipts only; 34,000 changes of unknown
    fields held the event loop 0.45 s and stored 34,000 unsupported events."""
    answer = await post(bot, body(build(count)))
    assert answer.status_code == 413, answer.text
    assert "more than" in answer.text
    assert nothing_stored(bot)


@pytest.mark.parametrize("text", ["Hallo", "cut \ud83d"])
async def test_the_largest_delivery_meta_sends_is_taken(bot: Empfang, text: str) -> None:
    """1,000 messages, each in its own entry and change with its own contact: every item
    of it counts, and it is all within the cap; with a cut emoji in each, every value is
    walked for the repair, and that is within its cap too."""
    one = envelope(messages=[MESSAGES["text"]])["entry"][0]
    doc: dict[str, Any] = {"object": "whatsapp_business_account", "entry": []}
    for i in range(MAX_UPDATES):
        entry = {**one, "changes": [{**one["changes"][0]}]}
        value = dict(entry["changes"][0]["value"])
        message = dict(MESSAGES["text"], id=f"wamid.big{i}", text={"body": text})
        value["messages"] = [message]
        entry["changes"][0]["value"] = value
        doc["entry"].append(entry)
    assert (await post(bot, body(doc))).status_code == 200
    assert rows(bot, "SELECT count(*) FROM messages") == [(MAX_UPDATES,)]


async def test_a_body_to_repair_of_more_values_than_meta_sends_is_413(bot: Empfang) -> None:
    """The repair of unstorable characters walks every JSON value in Python: 300,000 empty
    lists around one cut emoji held the event loop ~0.9 s."""
    doc = delivery(change("x", {"padding": [[]] * (MAX_REPAIR_VALUES + 1), "cut": "\ud83d"}))
    answer = await post(bot, body(doc))
    assert answer.status_code == 413, answer.text
    assert nothing_stored(bot)


@pytest.mark.parametrize(
    "media_id",
    [
        "../../etc/passwd",
        "1?fields=access_token&x=",
        "http://evil.example/x",
        "%2e%2e/%2e%2e/me",
        "..",
        "me",
        "12 34",
        "",
        12345,
    ],
)
async def test_a_media_id_that_is_not_an_id_is_stored_as_unsupported(
    bot: Empfang, media_id: Any
) -> None:
    """Probe 7: ``../../etc/passwd`` was stored as an image, and the media job sent
    ``GET /etc/passwd`` with the access token to the Graph host."""
    message = dict(MESSAGES["image"], image={"id": media_id, "mime_type": "image/jpeg"})
    assert (await post(bot, body(envelope(messages=[message])))).status_code == 200
    assert rows(bot, "SELECT kind FROM messages") == [("unsupported",)]
    assert rows(bot, "SELECT body ->> '$.media' FROM messages") == [(None,)]


@pytest.fixture
async def bot_on_each_store(
    make_settings: Callable[..., Settings], store_target: Path | str
) -> AsyncIterator[Empfang]:
    store = {"path": str(store_target)} if isinstance(store_target, Path) else {"url": store_target}
    app = Empfang(make_settings(store=store), intake_only=True)
    await app.start()
    yield app
    await app.stop()


async def test_a_nul_in_a_text_of_its_own_column_is_dropped(bot_on_each_store: Empfang) -> None:
    """An echo's text and a receipt's error title are columns of their own, not part of a
    JSON body: PostgreSQL's TEXT refuses NUL, a store error (503) for the input's fault."""
    app = bot_on_each_store
    status = dict(STATUSES["failed"], errors=[{"code": 131047, "title": "Re-\u0000engagement"}])
    doc = echoes(dict(echo("1749416383"), text={"body": "Gern\u0000, bis morgen"}))
    doc["entry"][0]["changes"].append(envelope(statuses=[status])["entry"][0]["changes"][0])
    assert (await post(app, body(doc))).status_code == 200
    assert await stored_rows(app, "SELECT body FROM messages") == [("Gern, bis morgen",)]
    titles = await stored_rows(app, "SELECT error_title FROM status_events")
    assert titles == [("Re-engagement",)]


def content_with(name: str, path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The fixture message ``name`` with the node at ``path`` (under its content) replaced."""
    message = json.loads(json.dumps(MESSAGES[name]))
    node = message
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return message


@pytest.mark.parametrize(
    ("name", "path", "value"),
    [
        ("text", ("text", "body"), ["Hallo"]),
        ("text", ("text", "body"), {"a": 1}),
        ("text", ("text", "body"), 5),
        ("button", ("button", "payload"), []),
        ("button", ("button", "text"), {"t": 1}),
        ("reaction", ("reaction", "emoji"), {"x": 1}),
        ("list_reply", ("interactive", "list_reply", "title"), [1]),
        ("button_reply", ("interactive", "button_reply", "id"), 7),
        ("flow_reply", ("interactive", "nfm_reply", "name"), {}),
        ("list_reply", ("interactive", "type"), ["list_reply"]),
        ("order", ("order", "product_items", 0, "quantity"), {"n": 2}),
        ("order", ("order", "product_items", 0, "product_retailer_id"), []),
        ("order", ("order", "text"), 1.5),
        ("contacts", ("contacts", 0, "name", "formatted_name"), ["Chandler"]),
        ("contacts", ("contacts", 0, "phones", 0, "phone"), {"n": "+49 176 12345678"}),
    ],
)
async def test_content_of_the_wrong_type_is_an_unsupported_message(
    bot: Empfang, name: str, path: tuple[Any, ...], value: Any
) -> None:
    """Its ``str()`` was shown to agents as what the customer wrote ("['Hallo']"); content
    that cannot be read is an unsupported message, as the contract says."""
    message = content_with(name, path, value)
    assert (await post(bot, body(envelope(messages=[message])))).status_code == 200
    assert rows(bot, "SELECT kind FROM messages") == [("unsupported",)]
