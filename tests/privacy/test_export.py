"""``empfang privacy export``: all of one person, nothing of anyone else (Art. 15/20)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import ManualClock
from bot.domain import (
    DeliveryStatus,
    InboundMessage,
    Media,
    MessageKind,
    Sender,
    SharedContact,
    SharedPhone,
    StatusUpdate,
    WebhookBatch,
)
from bot.ids import ProviderMessageId, WaId
from bot.store import Store
from tests.cases.conftest import Desk, sinks_from
from tests.numbers import CUSTOMER, CUSTOMER_2, THIRD_PARTY
from tests.support.store import peek, store_toml

A_TEXTS = ("Guten Morgen, meine Bestellung 4711 fehlt", "Ist sie heute unterwegs?")
B_TEXTS = ("Guten Morgen, meine Bestellung 4712 fehlt", "Ist sie morgen unterwegs?")
REPLY_A = "Ihre Bestellung 4711 kommt heute"
REPLY_B = "Ihre Bestellung 4712 kommt morgen"
START = 1_800_000_000.0


async def pseudonym_of(db: Path | str, number: str) -> str:
    [(pseudonym,)] = await peek(db, "SELECT pseudonym FROM contacts WHERE wa_id = ?", (number,))
    return str(pseudonym)


async def converse(db: Path | str, jsonl: Path) -> None:
    """A and B write alike on the same day, interleaved; A also sends a scan and a card."""
    store = await Store.open(db, clock=ManualClock(START))
    desk = Desk(store, sinks_from({"type": "jsonl", "name": "archive", "path": str(jsonl)}))
    try:
        for a_text, b_text in zip(A_TEXTS, B_TEXTS, strict=True):
            await desk.customer_says(a_text)
            await desk.customer_says(b_text, number=CUSTOMER_2)
            await desk.settle()
        scan = InboundMessage(
            provider_id=ProviderMessageId("wamid.scanA"),
            sender=Sender(wa_id=WaId(CUSTOMER), profile_name="Erika Mustermann"),
            timestamp=int(desk.clock.now()),
            kind=MessageKind.DOCUMENT,
            media=Media(media_id="m1", mime_type="application/pdf", filename="Lieferschein.pdf"),
        )
        card = InboundMessage(
            provider_id=ProviderMessageId("wamid.cardA"),
            sender=Sender(wa_id=WaId(CUSTOMER)),
            timestamp=int(desk.clock.now()),
            kind=MessageKind.CONTACTS,
            contacts=(
                SharedContact(name="Max Nachbar", phones=(SharedPhone(number=f"+{THIRD_PARTY}"),)),
            ),
        )
        await desk.intake.accept(WebhookBatch(messages=(scan, card)))
        await desk.settle()
        await desk.agent_says(REPLY_A)
        await desk.agent_says(REPLY_B, number=CUSTOMER_2)
        await desk.settle()
        sent = await desk.sql(
            "SELECT provider_id FROM messages WHERE direction = 'out' ORDER BY id"
        )
        receipts = tuple(
            StatusUpdate(
                provider_message_id=ProviderMessageId(row[0]),
                status=DeliveryStatus.DELIVERED,
                timestamp=int(desk.clock.now()),
            )
            for row in sent
        )
        await desk.intake.accept(WebhookBatch(statuses=receipts))
        await desk.settle()
    finally:
        await desk.close()
        await store.close()


@pytest.fixture
async def desk_db(tmp_path: Path, store_target: Path | str) -> tuple[Path | str, Path]:
    db, config = store_target, tmp_path / "config.toml"
    config.write_text(store_toml(db), encoding="utf-8")
    await converse(db, tmp_path / "cases.jsonl")
    return db, config


async def cli(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def test_export_holds_all_of_a_and_nothing_of_b(
    desk_db: tuple[Path | str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db, config = desk_db
    output = tmp_path / "dsar" / "a.json"
    code, out, err = await cli(
        ["privacy", "export", f"+{CUSTOMER}", "--config", str(config), "--output", str(output)],
        capsys,
    )
    assert code == 0 and out == ""
    a, b = await pseudonym_of(db, CUSTOMER), await pseudonym_of(db, CUSTOMER_2)
    assert err.startswith(f"exported {a}: ") and CUSTOMER not in err
    assert output.stat().st_mode & 0o777 == 0o600
    raw = output.read_text("utf-8")
    document = json.loads(raw)
    [contact] = document["contacts"]
    assert contact["pseudonym"] == a and contact["number"] == f"+{CUSTOMER}"
    texts = [
        m["content"]["text"]
        for m in contact["messages"]
        if m["kind"] == "text" and m["direction"] == "from_customer"
    ]
    assert texts == list(A_TEXTS)
    replies = [m for m in contact["messages"] if m["direction"] == "to_customer"]
    assert [(m["text"], m["sent_by"], m["delivery_status"]) for m in replies] == [
        (REPLY_A, "agent", "delivered")
    ]
    [scan] = [m for m in contact["messages"] if m["kind"] == "document"]
    assert scan["content"]["media"] == {
        "media_id": "m1",
        "mime_type": "application/pdf",
        "filename": "Lieferschein.pdf",
    }
    [card] = [m for m in contact["messages"] if m["kind"] == "contacts"]
    assert card["content"]["contacts"][0]["initials"] == "M. N."
    assert [r["status"] for r in contact["delivery_receipts"]] == ["delivered"]
    assert len(contact["conversations"]) == 1
    assert {t["system"] for t in document["transfers"]} == {"archive"}
    assert len(document["transfers"]) >= 5
    assert [e["action"] for e in document["audit"]] == ["privacy.export"]
    for foreign in (*B_TEXTS, REPLY_B, b, CUSTOMER_2, THIRD_PARTY, "Nachbar", "@alice"):
        assert foreign not in raw, foreign


async def test_export_by_pseudonym_is_audited_and_an_unknown_person_is_an_error(
    desk_db: tuple[Path | str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, config = desk_db
    b = await pseudonym_of(db, CUSTOMER_2)
    code, out, _ = await cli(["privacy", "export", b.lower(), "--config", str(config)], capsys)
    assert code == 0
    assert [
        m["content"]["text"]
        for m in json.loads(out)["contacts"][0]["messages"]
        if m["kind"] == "text" and m["direction"] == "from_customer"
    ] == list(B_TEXTS)
    audit = await peek(db, "SELECT action, subject, actor, details FROM audit_log")
    assert [(row[0], row[1]) for row in audit] == [("privacy.export", b)]
    assert audit[0][2].startswith("cli:")
    assert json.loads(audit[0][3]) == {"conversations": 1, "messages": 3}
    code, _, err = await cli(
        ["privacy", "export", "+4930123456789", "--config", str(config)], capsys
    )
    assert code == 1 and err.startswith("error: no contact +49") and "123456789" not in err
    with pytest.raises(SystemExit):
        main(["privacy", "export", "Erika", "--config", str(config)])
