"""The audit trail: rows for privileged actions, ``empfang audit verify|export``."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from bot.app import Empfang
from bot.audit import AuditEntry, config_digest, record, row_hash
from bot.cli import main
from bot.clock import ManualClock
from bot.config import Settings
from bot.errors import SignatureError
from bot.hashchain import GENESIS_HASH
from bot.store import Store
from bot.store.audit import AUDIT_COLUMNS, AuditRow
from tests.alerts.desk import Desk
from tests.numbers import CUSTOMER
from tests.support.store import peek, run_sql, store_toml

START = 1_800_000_000.0  # 2027-01-15T08:00:00Z
ENTRIES = (
    AuditEntry("privacy.export", "cli:dpo", subject="K-AAAAAA", details={"messages": 3}),
    AuditEntry("retention.hold", "@alice:example.org", subject="K-BBBBBB", reason="Klage"),
    AuditEntry("retention.purge", "empfang", details={"messages": 120, "media": 4}),
    AuditEntry("retention.release", "@alice:example.org", subject="K-BBBBBB"),
)


async def audit_rows(db: Path | str) -> list[AuditRow]:
    return [AuditRow(*r) for r in await peek(db, "SELECT * FROM audit_log ORDER BY id")]


async def write(db: Path | str, entries: Sequence[AuditEntry], *, day: int = 0) -> None:
    store = await Store.open(db, clock=ManualClock(START + day * 86_400))
    try:
        for entry in entries:
            async with store.transaction() as tx:
                await record(tx, entry)
    finally:
        await store.close()


@pytest.fixture
async def trail(tmp_path: Path, store_target: Path | str) -> tuple[Path | str, Path]:
    db, config = store_target, tmp_path / "config.toml"
    config.write_text(store_toml(db), encoding="utf-8")
    await write(db, ENTRIES[:2])
    await write(db, ENTRIES[2:], day=2)
    return db, config


async def cli(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def test_rows_are_chained_and_hold_no_number(store_target: Path | str) -> None:
    db = store_target
    reason = f"Kunde {CUSTOMER} bat darum, Tel. 0151 12345678"
    await write(db, [AuditEntry("number.reveal", "@bob:example.org", "K-CCCCCC", reason)])
    await write(db, ENTRIES)
    rows = await audit_rows(db)
    assert [row.action for row in rows] == ["number.reveal"] + [e.action for e in ENTRIES]
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(row.hash == row_hash(row) for row in rows)
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert rows[0].reason is not None and rows[0].reason.startswith("Kunde ")
    dump = repr(rows)
    assert CUSTOMER[-8:] not in dump and "12345678" not in dump
    assert json.loads(rows[3].details) == {"messages": 120, "media": 4}


async def test_each_start_records_the_effective_config(
    make_settings: Callable[..., Settings],
) -> None:
    digests = []
    for level in ("INFO", "DEBUG"):
        settings = make_settings(logging={"level": level})
        app = Empfang(settings, intake_only=True)
        await app.start()
        await app.stop()
        digests.append(config_digest(settings))
    rows = await audit_rows(Path(settings.store.path))
    assert [(r.action, r.actor) for r in rows] == [("config.start", "empfang")] * 2
    assert [json.loads(r.details)["config_sha256"] for r in rows] == digests
    assert digests[0] != digests[1]
    secret = settings.whatsapp.app_secret.get_secret_value()
    assert secret not in settings.model_dump_json(), "secrets enter the digest masked"


async def test_a_signature_failure_burst_is_recorded_once(store_target: Path | str) -> None:
    store = await Store.open(store_target, clock=ManualClock(START))
    desk = Desk(store, "", alerts={"signature_failures_threshold": 3})
    for _ in range(6):
        await desk.oncall.signature_failed(SignatureError("bad", missing=False))
    await store.close()
    rows = await audit_rows(store_target)
    assert [(r.action, json.loads(r.details)) for r in rows] == [
        ("webhook.signature_failures", {"count": 3, "window_s": 300.0})
    ]


async def test_verify_passes(
    trail: tuple[Path | str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, config = trail
    code, out, _ = await cli(["audit", "verify", "--config", str(config)], capsys)
    assert code == 0
    assert out.splitlines()[0] == "audit OK: 4 rows"
    assert (await audit_rows(db))[-1].hash in out


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ("UPDATE audit_log SET subject = 'K-ZZZZZZ' WHERE id = 2", "row 2 was altered"),
        ("UPDATE audit_log SET details = '{}' WHERE id = 3", "row 3 was altered"),
        ("DELETE FROM audit_log WHERE id = 2", "row 2 is missing (deleted)"),
        ("DELETE FROM audit_log WHERE id = 4", "rows 4 to 4 are missing (deleted)"),
    ],
)
async def test_verify_names_an_edited_or_deleted_row(
    trail: tuple[Path | str, Path], capsys: pytest.CaptureFixture[str], tamper: str, problem: str
) -> None:
    db, config = trail
    await run_sql(db, tamper)
    code, out, err = await cli(["audit", "verify", "--config", str(config)], capsys)
    assert code == 1 and "audit OK" not in out
    assert err.startswith("audit BROKEN at row ") and problem in err


async def test_export_csv_since(
    trail: tuple[Path | str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, config = trail
    args = ["audit", "export", "--config", str(config), "--since", "2027-01-16"]
    code, out, _ = await cli(args, capsys)
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert [row["action"] for row in table] == ["retention.purge", "retention.release"]
    assert table[0]["subject"] == "" and table[1]["subject"] == "K-BBBBBB"
    assert tuple(table[0]) == AUDIT_COLUMNS


async def test_export_json_to_a_private_file_says_when_broken(
    trail: tuple[Path | str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db, config = trail
    await run_sql(db, "UPDATE audit_log SET reason = 'anders' WHERE id = 2")
    output = tmp_path / "out" / "audit.json"
    args = ["audit", "export", "--config", str(config), "--since", "2027-01-01"]
    code, _, err = await cli([*args, "--format", "json", "--output", str(output)], capsys)
    assert code == 0
    assert "warning: audit BROKEN at row 2" in err and "exported 4 audit entries" in err
    document = json.loads(output.read_text("utf-8"))
    assert document["schema"] == "empfang.audit-trail/1"
    assert document["chain_verified"] is False
    assert [row["id"] for row in document["rows"]] == [1, 2, 3, 4]
    assert output.stat().st_mode & 0o777 == 0o600
