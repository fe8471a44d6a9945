"""``empfang backup`` against a running bot that keeps taking webhooks.

The bot is a real ``empfang run --intake-only`` process on a real SQLite file; the test posts
signed webhooks to it without pause, takes the backup in the middle, and checks the copy: it
opens on its own (no ``-wal`` beside it), passes ``PRAGMA integrity_check``, holds every
message acknowledged before the backup began and nothing that was never acknowledged, and is
0600 under the usual umask.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.demo.stack import free_port, wait_for
from bot.web import WEBHOOK_PATH
from tests.conftest import SECRETS
from tests.numbers import CUSTOMER
from tests.support.umask import mode, umask
from tests.whatsapp_fixtures import body, envelope

ROOT = Path(__file__).parents[2]


class RunningBot:
    """``empfang run --intake-only`` in its own process, and a client posting to it."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.store = workdir / "empfang.sqlite3"
        self.config = workdir / "config.toml"
        self.config.write_text(
            f"[server]\nport = {self.port}\n"
            f'[store]\npath = "{self.store}"\n'
            '[whatsapp]\nprovider = "sandbox"\n'
            + "".join(f'{key} = "{value}"\n' for key, value in SECRETS.items())
            + '[privacy]\npseudonym_key = "backup-test-pseudonym-key-0123"\n',
            encoding="utf-8",
        )
        self.acknowledged: list[str] = []

    async def post(self, client: httpx.AsyncClient, number: int) -> None:
        message_id = f"wamid.backup{number:06d}"
        message = {
            "from": CUSTOMER,
            "id": message_id,
            "timestamp": "1767225600",
            "type": "text",
            "text": {"body": f"Nachricht {number}"},
        }
        raw = body(envelope(messages=[message]))
        signature = hmac.new(SECRETS["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
        response = await client.post(
            f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}",
            content=raw,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": f"sha256={signature}",
            },
        )
        assert response.status_code == 200, response.text
        self.acknowledged.append(message_id)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[RunningBot]:
    running = RunningBot(tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--intake-only",
        "--config",
        str(running.config),
        cwd=ROOT,
    )

    async def ready() -> bool:
        try:
            async with httpx.AsyncClient(trust_env=False) as client:
                url = f"http://127.0.0.1:{running.port}/readyz"
                return (await client.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await wait_for(ready, within=30)
        yield running
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


def _message_ids(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return {row[0] for row in conn.execute("SELECT provider_id FROM messages")}


async def test_backup_of_a_running_bot_is_consistent_and_private(
    bot: RunningBot, tmp_path: Path
) -> None:
    output = tmp_path / "backups" / "empfang-backup.sqlite3"
    stop = asyncio.Event()

    async def keep_writing() -> None:
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            number = 0
            while not stop.is_set():
                await bot.post(client, number)
                number += 1

    writer = asyncio.create_task(keep_writing())

    async def acknowledged(count: int) -> bool:
        if writer.done():
            writer.result()  # the writer's failure, not a timeout
        return len(bot.acknowledged) >= count

    await wait_for(lambda: acknowledged(50), within=30)
    before = list(bot.acknowledged)
    with umask(0o022):
        code = await asyncio.to_thread(
            main, ["backup", "--config", str(bot.config), "--output", str(output)]
        )
    during = len(bot.acknowledged)
    await wait_for(lambda: acknowledged(during + 20), within=30)
    stop.set()
    await writer

    assert code == 0
    assert mode(output) == 0o600
    assert sorted(p.name for p in output.parent.iterdir()) == [output.name]  # no -wal, no temp
    copied = _message_ids(output)
    assert set(before) <= copied, "a message acknowledged before the backup is missing"
    assert copied <= set(bot.acknowledged)
    assert len(copied) < len(bot.acknowledged), "the bot kept writing during the backup"
    with sqlite3.connect(output) as conn:  # each copied message came with its relay job
        jobs = conn.execute("SELECT count(*) FROM jobs").fetchone()[0]
    assert jobs == len(copied)


def test_backup_without_a_store_fails_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMPFANG_STORE__PATH", str(tmp_path / "missing.sqlite3"))
    output = tmp_path / "copy.sqlite3"
    assert main(["backup", "--output", str(output)]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not output.exists()
    assert not (tmp_path / "missing.sqlite3").exists()


def test_backup_of_a_postgresql_store_is_refused_with_what_to_do_instead(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMPFANG_STORE__URL", "postgresql://empfang@db.internal/empfang")
    output = tmp_path / "copy.sqlite3"
    assert main(["backup", "--output", str(output)]) == 1
    assert "copies the SQLite store only" in capsys.readouterr().err
    assert not output.exists()
