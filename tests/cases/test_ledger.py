"""The transfer ledger: one chained row per transfer; ``empfang ledger verify|export``."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cases.ledger import GENESIS_HASH, row_hash
from bot.cli import main
from bot.clock import ManualClock
from bot.store import Store
from bot.store.cases import LedgerRow
from tests.cases.conftest import Desk, sinks_from
from tests.numbers import CUSTOMER
from tests.support.store import peek, run_sql, store_toml

TEXTS = ("Erste Frage", "Noch etwas", "Gern geschehen")


@dataclass(frozen=True)
class Ledgered:
    db: Path | str
    """The SQLite file or the PostgreSQL url (``store_target``)."""
    config: Path
    jsonl: Path


async def converse(db: Path | str, jsonl: Path, *, start: float = 1_800_000_000.0) -> None:
    """One whole conversation through the production path, transferred to a JSONL sink."""
    store = await Store.open(db, clock=ManualClock(start))
    desk = Desk(store, sinks_from({"type": "jsonl", "name": "archive", "path": str(jsonl)}))
    try:
        await desk.customer_says(f"{TEXTS[0]}, Tel. 0151 12345678")
        await desk.settle()
        desk.clock.advance(60)
        await desk.customer_says(TEXTS[1])
        await desk.settle()
        desk.clock.advance(60)
        await desk.agent_says(TEXTS[2])
        await desk.settle()
        await desk.agent_says("!close")
        await desk.settle()
    finally:
        await desk.close()
        await store.close()


@pytest.fixture
async def ledgered(tmp_path: Path, store_target: Path | str) -> Ledgered:
    found = Ledgered(store_target, tmp_path / "config.toml", tmp_path / "c.jsonl")
    found.config.write_text(store_toml(store_target), encoding="utf-8")
    await converse(found.db, found.jsonl)
    return found


async def cli(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``empfang …`` as the console script does (it calls asyncio.run itself)."""
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def rows(db: Path | str) -> list[LedgerRow]:
    return [LedgerRow(*r) for r in await peek(db, "SELECT * FROM transfer_ledger ORDER BY id")]


async def test_one_row_per_transfer_without_content_or_number(ledgered: Ledgered) -> None:
    ledger = await rows(ledgered.db)
    assert [(r.id, r.event, r.sink, r.outcome, r.attempts) for r in ledger] == [
        (1, "opened", "archive", "delivered", 1),
        (2, "message_in", "archive", "delivered", 1),
        (3, "message_in", "archive", "delivered", 1),
        (4, "message_out", "archive", "delivered", 1),
        (5, "closed", "archive", "delivered", 1),
    ]
    assert [r.categories for r in ledger] == ["pseudonym"] + ["pseudonym,text"] * 3 + ["pseudonym"]
    assert ledger[0].prev_hash == GENESIS_HASH
    assert all(row.hash == row_hash(row) for row in ledger)
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(ledger))
    dump = "\n".join(repr(row) for row in ledger)
    assert CUSTOMER[2:] not in dump and not any(text in dump for text in TEXTS)
    assert {row.pseudonym for row in ledger} == {ledger[0].pseudonym}
    lines = [json.loads(line) for line in ledgered.jsonl.read_text("utf-8").splitlines()]
    assert [line["id"] for line in lines] == [row.transfer_id for row in ledger]
    assert ledgered.jsonl.stat().st_mode & 0o777 == 0o600


async def test_verify_passes(ledgered: Ledgered, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await cli(["ledger", "verify", "--config", str(ledgered.config)], capsys)
    assert code == 0
    assert out.splitlines()[0] == "ledger OK: 5 rows"
    assert (await rows(ledgered.db))[-1].hash in out


@pytest.mark.parametrize(
    ("tamper", "bad_row"),
    [
        ("UPDATE transfer_ledger SET categories = 'pseudonym' WHERE id = 3", 3),
        ("UPDATE transfer_ledger SET sink = 'elsewhere' WHERE id = 1", 1),
        ("DELETE FROM transfer_ledger WHERE id = 2", 2),
        ("DELETE FROM transfer_ledger WHERE id = 5", 5),
        ("DELETE FROM transfer_ledger", 1),
    ],
)
async def test_verify_fails_after_a_row_is_altered_or_deleted(
    ledgered: Ledgered, capsys: pytest.CaptureFixture[str], tamper: str, bad_row: int
) -> None:
    await run_sql(ledgered.db, tamper)
    code, out, err = await cli(["ledger", "verify", "--config", str(ledgered.config)], capsys)
    assert code == 1 and "ledger OK" not in out
    assert err.startswith(f"ledger BROKEN at row {bad_row}:")


async def test_a_re_hashed_row_is_still_found(
    ledgered: Ledgered, capsys: pytest.CaptureFixture[str]
) -> None:
    """Editing a row and recomputing its own hash breaks the link of the next row."""
    row = (await rows(ledgered.db))[2]
    forged = LedgerRow(**{**row.__dict__, "outcome": "dead_lettered", "hash": ""})
    await run_sql(
        ledgered.db,
        "UPDATE transfer_ledger SET outcome = ?, hash = ? WHERE id = ?",
        (forged.outcome, row_hash(forged), row.id),
    )
    code, _, err = await cli(["ledger", "verify", "--config", str(ledgered.config)], capsys)
    assert code == 1 and err.startswith("ledger BROKEN at row 3: row 3 was altered and re-hashed")


async def test_deleted_tail_stays_visible_after_new_transfers(
    ledgered: Ledgered, capsys: pytest.CaptureFixture[str]
) -> None:
    await run_sql(ledgered.db, "DELETE FROM transfer_ledger WHERE id = 5")
    await converse(ledgered.db, ledgered.jsonl, start=1_800_100_000.0)
    assert [row.id for row in await rows(ledgered.db)][-1] == 10, "ids are never reused"
    code, _, err = await cli(["ledger", "verify", "--config", str(ledgered.config)], capsys)
    assert code == 1 and err.startswith("ledger BROKEN at row 5: row 5 is missing")


async def test_export_csv_since(ledgered: Ledgered, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = await rows(ledgered.db)
    since = ledger[2].time
    code, out, _ = await cli(
        ["ledger", "export", "--config", str(ledgered.config), "--since", since], capsys
    )
    assert code == 0
    exported = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["id"]) for r in exported] == [r.id for r in ledger if r.time >= since]
    assert 0 < len(exported) < len(ledger)
    assert exported[0]["hash"] == ledger[int(exported[0]["id"]) - 1].hash
    assert list(exported[0]) == [
        "id",
        "transfer_id",
        "time",
        "pseudonym",
        "sink",
        "case_id",
        "event",
        "categories",
        "outcome",
        "attempts",
        "prev_hash",
        "hash",
    ]


async def test_export_json_to_file(ledgered: Ledgered, capsys: pytest.CaptureFixture[str]) -> None:
    target = ledgered.config.parent / "ledger.json"
    code, _, err = await cli(
        [
            "ledger",
            "export",
            "--config",
            str(ledgered.config),
            "--since",
            "2027-01-01",
            "--format",
            "json",
            "--output",
            str(target),
        ],
        capsys,
    )
    assert code == 0 and "exported 5 ledger rows" in err
    document = json.loads(target.read_text("utf-8"))
    assert document["schema"] == "empfang.transfer-ledger/1"
    assert document["chain_verified"] is True
    assert document["chain_head"] == (await rows(ledgered.db))[-1].hash
    assert [r["event"] for r in document["rows"]][:2] == ["opened", "message_in"]
    exported = [LedgerRow(**r) for r in document["rows"]]
    assert all(row.hash == row_hash(row) for row in exported), "verifiable from the export"


async def test_export_warns_about_a_broken_chain(
    ledgered: Ledgered, capsys: pytest.CaptureFixture[str]
) -> None:
    await run_sql(ledgered.db, "UPDATE transfer_ledger SET attempts = 9 WHERE id = 4")
    code, out, err = await cli(
        ["ledger", "export", "--config", str(ledgered.config), "--since", "2027-01-01"], capsys
    )
    assert code == 0 and len(out.splitlines()) == 6
    assert "warning: ledger BROKEN at row 4" in err


async def test_bad_arguments_and_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "none.sqlite3"}"\n', encoding="utf-8")
    code, _, err = await cli(["ledger", "verify", "--config", str(config)], capsys)
    assert code == 1 and "no database at" in err
    assert not (tmp_path / "none.sqlite3").exists(), "verify never creates a database"
    with pytest.raises(SystemExit):
        await cli(["ledger", "export", "--config", str(config), "--since", "last week"], capsys)
    assert "not an ISO date" in capsys.readouterr().err
