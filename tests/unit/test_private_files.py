"""Files holding personal data are 0600 and the folders Empfang creates 0700, whatever the umask.

The store (with its -wal and -shm), the JSONL case sink and the ledger export, each created
under the usual umask 022 and under 000, and each tightened when an older version left it open.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from adapters.cases.jsonl import JsonlSink
from bot.cases.cli import run_ledger
from bot.cases.model import CaseRef, Transfer, TransferMessage
from bot.cli import build_parser
from bot.config.cases import JsonlSinkSection
from bot.private_files import open_to_others
from bot.store import Store
from tests.support.umask import UMASKS, mode, umask


@pytest.mark.parametrize("value", UMASKS, ids=oct)
async def test_store_and_its_wal_and_shm_are_private(tmp_path: Path, value: int) -> None:
    path = tmp_path / "new" / "deeper" / "empfang.sqlite3"
    with umask(value):
        store = await Store.open(path)
        try:
            async with store.transaction() as tx:
                await tx.conn.execute("INSERT INTO meta (key, value) VALUES ('probe', 'x')")
            files = {p.name: mode(p) for p in path.parent.iterdir()}
        finally:
            await store.close()
    assert files == {
        "empfang.sqlite3": 0o600,
        "empfang.sqlite3-wal": 0o600,
        "empfang.sqlite3-shm": 0o600,
    }
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700
    assert not open_to_others(path.parent)


async def test_a_store_left_open_by_an_older_version_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "empfang.sqlite3"
    await (await Store.open(path)).close()
    for name in ("empfang.sqlite3", "empfang.sqlite3-shm"):
        (tmp_path / name).touch()
        os.chmod(tmp_path / name, 0o644)
    store = await Store.open(path)
    try:
        assert mode(path) == 0o600
        assert mode(tmp_path / "empfang.sqlite3-shm") == 0o600
    finally:
        await store.close()


def _transfer() -> Transfer:
    return Transfer(
        transfer_id="t-1",
        event="message_in",
        conversation_id=1,
        requester="K-TEST0001",
        opened_at=1.0,
        occurred_at=2.0,
        messages=(TransferMessage(message_id=1, direction="in", at=2.0, kind="text", text="Hi"),),
        categories=("pseudonym", "text"),
    )


@pytest.mark.parametrize("value", UMASKS, ids=oct)
async def test_jsonl_sink_file_is_private(tmp_path: Path, value: int) -> None:
    path = tmp_path / "cases" / "archive.jsonl"
    sink = JsonlSink(JsonlSinkSection(type="jsonl", name="archive", path=path))
    with umask(value):
        await sink.send(CaseRef(), _transfer())
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert json.loads(path.read_text("utf-8"))["conversation"]["requester"] == "K-TEST0001"


async def test_jsonl_sink_tightens_a_file_recreated_open_by_log_rotation(tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    path.touch()
    os.chmod(path, 0o644)
    sink = JsonlSink(JsonlSinkSection(type="jsonl", name="archive", path=path))
    await sink.send(CaseRef(), _transfer())
    assert mode(path) == 0o600


@pytest.mark.parametrize("value", UMASKS, ids=oct)
async def test_ledger_export_is_private(
    tmp_path: Path, value: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_path = tmp_path / "empfang.sqlite3"
    await (await Store.open(store_path)).close()
    monkeypatch.setenv("EMPFANG_STORE__PATH", str(store_path))
    output = tmp_path / "export" / "ledger.csv"
    args = build_parser().parse_args(
        ["ledger", "export", "--since", "2026-01-01", "--output", str(output)]
    )
    with umask(value):
        assert await asyncio.to_thread(run_ledger, args) == 0
    assert mode(output) == 0o600
    assert mode(output.parent) == 0o700
