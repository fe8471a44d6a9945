"""``empfang jobs list|retry|drop`` and ``empfang status`` on a real store file, through
``bot.cli.main`` as an operator runs them: what they show, what they change, what the
audit trail keeps, and that no number and no message text ever appears."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot import cli
from bot.domain import SERVICE_WINDOW_SECONDS, InboundMessage, MessageKind, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake
from bot.store import Store
from tests.numbers import CUSTOMER

TEXT = "Meine Kundennummer ist 8812"
HOUR = 3600.0


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    for shown in (out, err):
        assert CUSTOMER not in shown and CUSTOMER[-9:] not in shown, "a number was shown"
        assert TEXT not in shown, "message content was shown"
    return code, out, err


async def prepare(path: Path) -> None:
    """Two customer messages relayed nowhere yet; the first one's job dead-lettered with an
    error text that names the number (as a careless adapter might); a conversation whose
    window closes in half an hour; the chat platform down for ten minutes."""
    store = await Store.open(path)
    now = store.clock.now()
    intake = Intake(store, pseudonym_key=b"ops-cli-test-pseudonym-key-01")
    for n in (1, 2):
        message = InboundMessage(
            provider_id=ProviderMessageId(f"wamid.ops{n}"),
            sender=Sender(wa_id=WaId(CUSTOMER)),
            timestamp=int(now),
            kind=MessageKind.TEXT,
            text=TEXT,
        )
        await intake.accept(WebhookBatch(messages=(message,)))
    async with store.transaction() as tx:
        now = tx.clock.now()
        job = await tx.jobs.lease(now=now, until=now + 60, token="worker")
        assert job is not None and job.id == 1
        await tx.jobs.dead_letter(job, error=f"Undeliverable: no WhatsApp account +{CUSTOMER}")
        conversation, _ = await tx.conversations.ensure_open(1, now)
        late = now - SERVICE_WINDOW_SECONDS + HOUR / 2
        await tx.conversations.touch_customer(conversation.id, late)
        await tx.alerts.raise_operational("chat_unreachable", "Slack is down", now - 600)
    await store.close()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    store = tmp_path / "empfang.sqlite3"
    asyncio.run(prepare(store))
    path = tmp_path / "empfang.toml"
    path.write_text(f'[store]\npath = "{store}"\n')
    return path


def rows(config: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(config.parent / "empfang.sqlite3") as conn:
        return conn.execute(sql).fetchall()


def test_list_shows_jobs_without_content(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "jobs", "list", "--config", str(config))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "KIND", "STATE", "TRIES"]
    assert lines[1].split()[:4] == ["1", "relay.inbound", "dead", "1"]
    assert "Undeliverable: no WhatsApp account" in lines[1]
    assert lines[2].split()[:3] == ["2", "relay.inbound", "pending"]
    code, out, _ = run(capsys, "jobs", "list", "--dead", "--config", str(config))
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["1"]
    code, out, _ = run(capsys, "jobs", "list", "--kind", "chat.status", "--config", str(config))
    assert out.strip() == "no jobs"


def test_retry_requeues_a_dead_job_from_attempt_one(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "jobs", "retry", "1", "2", "--config", str(config))
    assert code == 1, "job 2 was not dead"
    assert out.strip() == "requeued 1 dead-lettered job(s): 1"
    assert "job 2 is not dead-lettered" in err
    assert rows(config, "SELECT id, state, attempts FROM jobs ORDER BY id") == [
        (1, "pending", 0),
        (2, "pending", 0),
    ]
    code, out, _ = run(capsys, "jobs", "retry", "--all-dead", "--config", str(config))
    assert code == 0 and out.strip() == "requeued 0 dead-lettered job(s)"


def test_drop_removes_the_job_and_audits_who_why_and_when(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = f"customer +{CUSTOMER} wrote again by e-mail"
    code, out, _ = run(capsys, "jobs", "drop", "1", "--reason", reason, "--config", str(config))
    assert code == 0
    assert out.splitlines()[0] == "dropped job 1 (relay.inbound, dead, 1 attempts)"
    assert rows(config, "SELECT id FROM jobs") == [(2,)]
    ((action, actor, logged_reason, details, time),) = rows(
        config,
        "SELECT action, actor, reason, details, time FROM audit_log WHERE action = 'job.drop'",
    )
    assert action == "job.drop" and str(actor).startswith("cli:") and time
    assert "wrote again by e-mail" in str(logged_reason) and CUSTOMER not in str(logged_reason)
    assert details == '{"attempts":1,"job":1,"kind":"relay.inbound","state":"dead"}'
    code, _, err = run(capsys, "jobs", "drop", "1", "--reason", "again", "--config", str(config))
    assert code == 1 and "job 1 does not exist" in err
    code, out, _ = run(capsys, "audit", "verify", "--config", str(config))
    assert code == 0, "the drop is part of the hash-chained trail"


def test_drop_without_a_reason_is_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "jobs", "drop", "1", "--reason", "  ", "--config", str(config))
    assert code == 1 and "--reason" in err
    assert len(rows(config, "SELECT id FROM jobs")) == 2


def test_status_answers_is_the_bot_keeping_up(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "status", "--config", str(config))
    assert code == 0
    lines = out.splitlines()
    assert "  relay.inbound   pending      1   dead      1" in lines
    assert "dead letters:         1 (empfang jobs list --dead)" in lines
    assert any(line.startswith("oldest pending job:   20") for line in lines)
    assert any(line.startswith("last webhook:         20") for line in lines)
    assert any(line.startswith("chat platform:        unreachable since") for line in lines)
    assert any(line.startswith("active alerts:        chat_unreachable since") for line in lines)
    assert lines[-1] == "windows closing within the next hour: 1 (1 unanswered)"


def test_status_names_the_platform_that_is_down_of_two(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(raise_alert(config, "chat_unreachable.slack"))
    code, out, _ = run(capsys, "status", "--config", str(config))
    assert code == 0
    (chat,) = [line for line in out.splitlines() if line.startswith("chat platform:")]
    assert "; slack unreachable since 20" in chat, chat


async def raise_alert(config: Path, kind: str) -> None:
    store = await Store.open(config.parent / "empfang.sqlite3")
    async with store.transaction() as tx:
        await tx.alerts.raise_operational(kind, "down", tx.clock.now())
    await store.close()


def test_commands_refuse_a_missing_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "empfang.toml"
    config.write_text(f'[store]\npath = "{tmp_path / "nothing.sqlite3"}"\n')
    code, _, err = run(capsys, "status", "--config", str(config))
    assert code == 1 and "no database at" in err
    assert not (tmp_path / "nothing.sqlite3").exists()
