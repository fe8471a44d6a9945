"""The webhook contract over real HTTP into a real SQLite file: every input gets 200, 400,
401/403, 413, 415 or 503, never 500, and a delivery is stored whole or not at all."""

from __future__ import annotations

import asyncio
import gzip
import logging
import sqlite3
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.app import Empfang
from bot.domain import InboundMessage
from bot.intake import EARLIEST_TIMESTAMP
from bot.metrics import Metrics
from bot.web import WEBHOOK_PATH, printable, safety_net
from tests.integration.test_webhook_http import post, rows
from tests.whatsapp_fixtures import MESSAGES, STATUSES, body, envelope


def everything_readable(app: Empfang) -> int:
    """Reads every text column of every table; sqlite3 raises on bytes that are not UTF-8."""
    read = 0
    with sqlite3.connect(app.settings.store.path) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            read += len(conn.execute(f"SELECT * FROM {table}").fetchall())
    return read


def stored_messages(app: Empfang) -> dict[str, InboundMessage]:
    return {
        provider_id: InboundMessage.model_validate_json(stored)
        for provider_id, stored in rows(app, "SELECT provider_id, body FROM messages")
    }


def with_value(doc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    doc["entry"][0]["changes"][0]["value"].update(changes)
    return doc


SIBLING = dict(MESSAGES["image"], id="wamid.sibling", **{"from": "4915199999999"})


@pytest.mark.parametrize("where", ["text", "profile name", "caption", "raw bytes"])
async def test_unstorable_characters_are_stored_replaced_readable_and_flagged(
    bot: Empfang, where: str
) -> None:
    """Defects 1 and 8: a lone surrogate (a cut emoji) used to be a 500 for the whole
    delivery, or was stored as bytes the relay could not read back."""
    first: dict[str, Any] = dict(MESSAGES["text"], text={"body": "BYTES"})
    if where == "text":
        first["text"] = {"body": "cut \ud83d"}
    elif where == "caption":
        first.update(type="image", image={"id": "4711", "caption": "\ud800 x"})
    doc = envelope(messages=[first, SIBLING])
    if where == "profile name":
        with_value(doc, contacts=[{"profile": {"name": "Erika \udfff"}, "wa_id": first["from"]}])
    raw = body(doc)
    if where == "raw bytes":
        raw = raw.replace(b"BYTES", b"BY\xc3\x28TES")  # not UTF-8
    assert (await post(bot, raw)).status_code == 200
    assert everything_readable(bot) > 0
    stored = stored_messages(bot)
    assert stored[first["id"]].repaired and not stored["wamid.sibling"].repaired
    assert rows(bot, "SELECT count(*) FROM jobs") == [(2,)]
    if where == "profile name":
        assert ("Erika \ufffd",) in rows(bot, "SELECT profile_name FROM contacts")


async def test_an_unusable_id_is_counted_and_its_sibling_stored(bot: Empfang) -> None:
    bad = dict(MESSAGES["text"], id="wamid.\ud83d")
    assert (await post(bot, body(envelope(messages=[bad, SIBLING])))).status_code == 200
    assert list(stored_messages(bot)) == ["wamid.sibling"]
    assert rows(bot, "SELECT field FROM unsupported_events") == [
        ("invalid message: messages[].id is not a valid identifier",)
    ]
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{bot.url}/metrics")).text
    assert 'empfang_messages_total{outcome="ignored"} 1.0' in text


async def test_a_delivery_is_one_decision(bot: Empfang) -> None:
    """Defect 2: a message and a receipt in one delivery; storing the receipt fails (here a
    trigger stands in for a full disk). The message must not stay behind, and the answer
    is 503 (store unavailable), which Meta retries; the redelivery then stores both."""
    doc = envelope(messages=[MESSAGES["text"]], statuses=[STATUSES["read"]])
    with sqlite3.connect(bot.settings.store.path) as conn:
        conn.execute(
            "CREATE TRIGGER full_disk BEFORE INSERT ON status_events"
            " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    refused = await post(bot, body(doc))
    assert (refused.status_code, refused.text) == (503, "store unavailable (IntegrityError)")
    for table in ("messages", "jobs", "contacts", "status_events"):
        assert rows(bot, f"SELECT count(*) FROM {table}") == [(0,)], table
    with sqlite3.connect(bot.settings.store.path) as conn:
        conn.execute("DROP TRIGGER full_disk")
    assert (await post(bot, body(doc))).status_code == 200
    assert rows(bot, "SELECT count(*) FROM messages") == [(1,)]
    assert rows(bot, "SELECT count(*) FROM status_events") == [(1,)]


@pytest.mark.parametrize(
    "timestamp", ["10000000000000000000", str(2**63), 2**63, "0", "-5", 0, "99999999999"]
)
async def test_timestamps_out_of_range_become_the_receive_time(
    bot: Empfang, timestamp: str | int
) -> None:
    """Defects 2 and 3: beyond SQLite's INTEGER was a 500 after the message was committed;
    0, negative or far-future times were stored as given."""
    message = dict(MESSAGES["text"], timestamp=timestamp)
    status = dict(STATUSES["read"], timestamp=timestamp)
    assert (
        await post(bot, body(envelope(messages=[message], statuses=[status])))
    ).status_code == 200
    [(created_at,)] = rows(bot, "SELECT created_at FROM messages")
    stored = stored_messages(bot)[message["id"]]
    assert stored.timestamp == int(created_at) and stored.repaired
    [(kept, received_at)] = rows(bot, "SELECT timestamp, received_at FROM status_events")
    assert kept == int(received_at) >= EARLIEST_TIMESTAMP


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"object":"whatsapp_business_account","entry":' + b"[" * 100_000, "nested too deeply"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (body(envelope(messages=[MESSAGES["text"]])).replace(b'"1749416383"', b"Infinity"), "Inf"),
        (body(envelope(messages=[MESSAGES["text"]])).replace(b'"1749416383"', b"NaN"), "NaN"),
    ],
)
async def test_what_is_not_json_is_400(bot: Empfang, raw: bytes, reason: str) -> None:
    response = await post(bot, raw)
    assert response.status_code == 400 and reason in response.text
    assert rows(bot, "SELECT count(*) FROM messages") == [(0,)]


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", lambda raw: raw)],
)
async def test_compressed_bodies_are_refused_unread(
    bot: Empfang, encoding: str, pack: Callable[[bytes], bytes]
) -> None:
    """Defect 7: a small gzip body unpacking to 1 GB held the event loop for seconds."""
    packed = pack(body(envelope(messages=[MESSAGES["text"]])))
    headers = {"Content-Encoding": encoding, "X-Hub-Signature-256": "sha256=" + "0" * 64}
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{bot.url}/webhooks/whatsapp", content=packed, headers=headers
        )
    assert response.status_code == 415
    assert rows(bot, "SELECT count(*) FROM messages") == [(0,)]


async def test_more_updates_than_meta_aggregates_is_413(bot: Empfang) -> None:
    """Defect 12: 5,000 messages in one delivery held the event loop ~0.3 s."""
    many = [dict(MESSAGES["text"], id=f"wamid.m{i}") for i in range(5000)]
    response = await post(bot, body(envelope(messages=many)))
    assert response.status_code == 413 and "more than 1000" in response.text
    assert rows(bot, "SELECT count(*) FROM messages") == [(0,)]


async def test_interactive_meta_could_not_pass_on_is_stored_as_unsupported(
    bot: Empfang,
) -> None:
    """Defect 10: refused with 400 before, so Meta redelivered it for days."""
    raw = {
        "from": MESSAGES["text"]["from"],
        "id": "wamid.int131000",
        "timestamp": "1749416402",
        "type": "interactive",
        "errors": [{"code": 131000, "title": "Something went wrong"}],
    }
    assert (await post(bot, body(envelope(messages=[raw])))).status_code == 200
    assert rows(bot, "SELECT kind FROM messages") == [("unsupported",)]
    assert rows(bot, "SELECT count(*) FROM jobs") == [(1,)]


def test_reasons_cannot_forge_log_lines() -> None:
    """Defect 5: a reason may quote the request; a newline in it began a new log line."""
    assert printable("interactive.x\n2026-12-01 ERROR forged") == (
        "interactive.x\\n2026-12-01 ERROR forged"
    )
    assert printable("\x1b[31m\u2028") == "\\x1b[31m\\u2028"
    assert printable("x" * 300).endswith("x…") and len(printable("x" * 300)) == 201


async def test_a_webhook_at_a_closed_store_gets_its_503_at_once(
    bot: Empfang, caplog: pytest.LogCaptureFixture
) -> None:
    """It waited for good: its work was queued behind the store thread's stop."""
    assert bot.store is not None
    await bot.store.close()
    async with asyncio.timeout(10):
        answer = await post(bot, body(envelope(messages=[MESSAGES["text"]])))
    assert answer.status_code == 503
    assert "store" in answer.text


async def test_an_unexpected_error_is_a_503_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """The safety net behind the fixes: no 500 and no log line per request for a bug (here
    a handler that raises what nothing expects)."""

    async def buggy(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    metrics = Metrics()
    app = web.Application(middlewares=[safety_net(metrics)])
    app.router.add_post(WEBHOOK_PATH, buggy)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    caplog.set_level(logging.ERROR, logger="empfang.web")
    try:
        async with httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            answers = [(await client.post(url, content=b"{}")).status_code for _ in range(3)]
    finally:
        await runner.cleanup()
    assert answers == [503, 503, 503]
    assert len([r for r in caplog.records if "answered 503" in r.message]) == 1
    assert 'outcome="refused_503"} 3.0' in metrics.render(None)[0].decode()
