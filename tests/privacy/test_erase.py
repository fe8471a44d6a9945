"""``empfang privacy erase`` (Art. 17): A leaves every table and queue, B stays whole, the
chat thread and the case systems are reached through the running bot's jobs, the report says
what was erased and what could not be, and a second run finds nothing left.

The command runs as a CLI process would, beside a running desk (production wiring, a manual
clock) on the same SQLite file; case systems are a webhook receiver on loopback and a JSONL
archive."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.clock import ManualClock
from bot.dpo.erase import erase_subject
from bot.dpo.export import Subject
from bot.ids import ThreadId
from bot.ports import Capabilities, Removal
from bot.store import Store
from bot.texts import ENGLISH
from tests.cases.conftest import WEBHOOK_SECRET, Desk, Mailbox, Receiver, sinks_from
from tests.cases.doubles import RecordingChat
from tests.fakes.zammad import FakeZammad
from tests.numbers import CUSTOMER, CUSTOMER_2
from tests.support.store import peek, store_toml, table_names

START = 1_800_000_000.0
KEPT_RECORDS = ("audit_log", "transfer_ledger")
"""Hash-chained accountability records: they keep the pseudonym (never content or number)."""


class RemovingChat(RecordingChat):
    """The recording chat with ``remove_thread``: it forgets the thread's posts."""

    capabilities = Capabilities(reactions=True, redaction=True)

    def __init__(self) -> None:
        super().__init__()
        self.removed: list[str] = []

    async def remove_thread(self, thread_id: ThreadId, notice: str, *, key: str) -> Removal:
        removed = len(self.posts.pop(thread_id, []))
        self.posts[thread_id] = [notice]
        self.removed.append(thread_id)
        return Removal(removed=removed + 1)


async def traces(db: Path | str, needles: Sequence[str]) -> list[str]:
    """Every table (but the accountability records) and row that mentions a needle."""
    found = []
    for table in await table_names(db):
        if table in KEPT_RECORDS:
            continue
        for row in await peek(db, f"SELECT * FROM {table}"):
            text = json.dumps(row, ensure_ascii=False, default=str)
            found += [f"{table}: {needle}" for needle in needles if needle in text]
    return found


async def scalar(db: Path | str, sql: str, *args: Any) -> Any:
    rows = await peek(db, sql, args)
    return rows[0][0] if rows else None


async def cli(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(args))
    out, err = capsys.readouterr()
    return code, out, err


async def test_erase_reaches_store_queue_chat_and_case_systems_and_is_idempotent(
    tmp_path: Path, store_target: Path | str, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    db, jsonl, config = store_target, tmp_path / "cases.jsonl", tmp_path / "c.toml"
    hook = {"type": "webhook", "name": "crm", "url": receiver.url, "secret": WEBHOOK_SECRET}
    archive = {"type": "jsonl", "name": "archive", "path": str(jsonl)}
    config.write_text(
        store_toml(db) + f'[[cases]]\ntype = "webhook"\nname = "crm"\nurl = "{receiver.url}"\n'
        f'secret = "{WEBHOOK_SECRET}"\n'
        f'[[cases]]\ntype = "jsonl"\nname = "archive"\npath = "{jsonl}"\n',
        encoding="utf-8",
    )
    store = await Store.open(db, clock=ManualClock(START))
    chat = RemovingChat()
    desk = Desk(store, sinks_from(hook, archive), chat=chat)
    try:
        await desk.customer_says("Guten Morgen, meine Bestellung 4711 fehlt")
        await desk.customer_says("Guten Morgen, meine Bestellung 4712 fehlt", number=CUSTOMER_2)
        await desk.settle()
        await desk.agent_says("Ihre Bestellung 4711 kommt heute")
        await desk.agent_says("Ihre Bestellung 4712 kommt morgen", number=CUSTOMER_2)
        await desk.settle()
        a_thread, b_thread = await desk.thread_of(CUSTOMER), await desk.thread_of(CUSTOMER_2)
        a = await scalar(db, "SELECT pseudonym FROM contacts WHERE wa_id = ?", CUSTOMER)
        b = await scalar(db, "SELECT pseudonym FROM contacts WHERE wa_id = ?", CUSTOMER_2)
        b_messages = await scalar(
            db,
            "SELECT count(*) FROM messages m JOIN contacts k"
            " ON k.id = m.contact_id WHERE k.wa_id = ?",
            CUSTOMER_2,
        )
        await desk.agent_says("Noch eine Frage an A")  # queued, not yet sent: cancelled
        assert await scalar(db, "SELECT count(*) FROM jobs WHERE kind = 'relay.outbound'") == 1
        sent_before = list(desk.whatsapp.sent)

        code, out, err = await cli(
            [
                "privacy",
                "erase",
                f"+{CUSTOMER}",
                "--reason",
                "Antrag vom 30.11.",
                "--config",
                str(config),
            ],
            capsys,
        )
        assert (code, err) == (0, "")
        found = await traces(db, [CUSTOMER, a])
        assert found == [t for t in found if "jobs" in t]
        await desk.settle()  # the running bot does the chat and case-system jobs
    finally:
        await desk.close()
        await store.close()

    assert await traces(db, [CUSTOMER, a]) == [], "A is gone from every table and queue"
    assert await scalar(db, "SELECT count(*) FROM jobs") == await scalar(
        db,
        "SELECT count(*) FROM jobs WHERE kind IN ('alert.sla', 'alert.window', 'chat.window')",
    ), "only B's timers are left"
    assert desk.whatsapp.sent == sent_before, "the queued send to A was cancelled"
    assert await scalar(db, "SELECT count(*) FROM contacts WHERE wa_id = ?", CUSTOMER_2) == 1
    assert (
        await scalar(
            db,
            "SELECT count(*) FROM messages m JOIN contacts k ON k.id = m.contact_id"
            " WHERE k.wa_id = ?",
            CUSTOMER_2,
        )
        == b_messages
    ), "B untouched"

    assert chat.removed == [a_thread] and chat.posts[b_thread], "A's thread only"
    erased = [e for e in receiver.events if e["event"] == "erased"]
    assert [(e["conversation"]["requester"], e["messages"]) for e in erased] == [(a, [])]
    assert erased[0]["case_id"] == f"C-{erased[0]['conversation']['id']}"
    archived = jsonl.read_text(encoding="utf-8")
    assert a not in archived and b in archived, "the JSONL archive dropped A's lines"
    ledger = await peek(
        db, "SELECT sink, event, pseudonym FROM transfer_ledger WHERE event = 'erased'"
    )
    assert sorted(ledger) == [("archive", "erased", a), ("crm", "erased", a)]

    assert f"erased {a}" in out and "1 relay.outbound" in out
    assert "case system crm, case C-1: erasure request queued" in out
    assert "case system archive, case for conversation 1: the running bot removes its lines" in out
    assert "not erased:" in out and "agents' replies in Slack" in out
    assert CUSTOMER not in out
    (row,) = await peek(
        db, "SELECT actor, subject, reason, details FROM audit_log WHERE action = 'privacy.erase'"
    )
    assert row[0].startswith("cli:") and row[1] == a and row[2] == "Antrag vom 30.11."
    details = json.loads(row[3])
    assert details["deleted_contacts"] == 1 and details["sends_cancelled"] == 1
    assert CUSTOMER not in row[3]
    (removed,) = await peek(
        db, "SELECT subject, details FROM audit_log WHERE action = 'chat.thread_removed'"
    )
    assert removed[0] == a and json.loads(removed[1])["why"] == "erasure"

    code, out, _ = await cli(
        ["privacy", "erase", a, "--reason", "again", "--config", str(config)], capsys
    )
    assert code == 0 and out == f"nothing left to erase: no contact {a} in the store\n"
    assert await scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'privacy.erase'") == 1

    store = await Store.open(db, clock=ManualClock(START + 3600))
    desk = Desk(store)
    try:
        await desk.customer_says("Hallo, ich bin es wieder")
        await desk.settle()
    finally:
        await desk.close()
        await store.close()
    assert (
        await scalar(
            db,
            "SELECT count(*) FROM messages m JOIN contacts k ON k.id = m.contact_id"
            " WHERE k.wa_id = ?",
            CUSTOMER,
        )
        == 1
    ), "a new contact, nothing of the old"
    assert await scalar(db, "SELECT pseudonym FROM contacts WHERE wa_id = ?", CUSTOMER) == a


async def test_a_conversation_on_legal_hold_blocks_the_erasure(
    tmp_path: Path, store_target: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    db, config = store_target, tmp_path / "c.toml"
    config.write_text(store_toml(db), encoding="utf-8")
    store = await Store.open(db, clock=ManualClock(START))
    desk = Desk(store)
    try:
        await desk.customer_says("Streitfall")
        await desk.settle()
        await desk.agent_says("!hold Klage 2027-3")
        await desk.settle()
    finally:
        await desk.close()
        await store.close()
    before = await traces(db, [CUSTOMER])
    code, out, _ = await cli(
        ["privacy", "erase", f"+{CUSTOMER}", "--reason", "Antrag", "--config", str(config)], capsys
    )
    assert code == 1 and "on legal hold" in out and "Nothing was changed" in out
    assert await traces(db, [CUSTOMER]) == before and before
    assert await scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'privacy.erase'") == 0


async def test_zammad_and_email_get_a_note_asking_to_erase_their_copy(
    tmp_path: Path, zammad: FakeZammad, smtp: Mailbox
) -> None:
    store = await Store.open(tmp_path / "empfang.sqlite3", clock=ManualClock(START))
    helpdesk = {"type": "zammad", "name": "helpdesk", "url": zammad.url, "token": zammad.token}
    mail = {
        "type": "email",
        "name": "mail",
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": "none",
        "from_addr": "empfang@firma.example",
        "to_addr": "support@helpdesk.example",
    }
    desk = Desk(store, sinks_from(helpdesk, mail))
    try:
        await desk.customer_says("Meine Bestellung fehlt")
        await desk.settle()
        async with store.transaction() as tx:
            erasure = await erase_subject(
                tx,
                Subject(wa_id=CUSTOMER),
                "cli:dpo",
                "Antrag",
                {"helpdesk": "zammad", "mail": "email"},
            )
        await desk.settle()
    finally:
        await desk.close()
        await store.close()
    (pseudonym,) = erasure.pseudonyms
    note = zammad.notes(1)[-1]
    assert note["subject"] == ENGLISH.case_erased and note["internal"] is True
    assert pseudonym in note["body"]
    last = smtp.messages[-1]
    assert last["X-Empfang-Event"] == "erased" and last["Subject"].startswith("Re: ")
    assert ENGLISH.case_erased in last.get_content() and CUSTOMER not in last.as_string()
