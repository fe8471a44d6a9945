"""``!case`` from the thread, several sinks side by side, and the wire-error mapping."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from adapters.cases.http import error_from_response
from bot.store import Store
from tests.cases.conftest import Desk, sinks_from
from tests.cases.doubles import RecordingChat
from tests.fakes.zammad import FakeZammad


def tables(zammad: FakeZammad, jsonl: Path) -> list[dict[str, str]]:
    return [
        {"type": "zammad", "name": "helpdesk", "url": zammad.url, "token": zammad.token},
        {"type": "jsonl", "name": "archive", "path": str(jsonl)},
    ]


async def test_case_command_in_the_thread_with_two_sinks(
    store: Store, zammad: FakeZammad, tmp_path: Path
) -> None:
    # Not idempotent: see test_every_case_answer_reaches_an_idempotent_chat below.
    chat = RecordingChat(idempotent=False)
    desk = Desk(store, sinks_from(*tables(zammad, tmp_path / "a.jsonl")), chat=chat)
    await desk.customer_says("Hallo")
    await desk.settle()
    thread = await desk.thread_of()

    await desk.agent_says("!case")
    await desk.settle()
    shown = desk.chat.posts[thread][-1]
    assert shown.startswith("📁 helpdesk: case 31001 — ")
    assert "archive: transferred (this case system gives no case id)" in shown

    await desk.agent_says("!case archive ORD-2026-17")
    await desk.settle()
    assert "🔗 Linked case ORD-2026-17 in archive." in desk.chat.posts[thread][-1]
    await desk.agent_says("!case a b c")
    await desk.settle()
    assert "Case systems: helpdesk, archive." in desk.chat.posts[thread][-1]

    await desk.agent_says("Antwort")
    await desk.settle()
    await desk.close()
    lines = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text("utf-8").splitlines()]
    assert lines[-1]["event"] == "message_out" and lines[-1]["case_id"] == "ORD-2026-17"
    assert desk.whatsapp.sent[-1][1] == "Antwort", "commands never reach the customer"
    assert all(not text.startswith("!case") for _, text in desk.whatsapp.sent)


async def test_every_case_answer_reaches_an_idempotent_chat(store: Store, tmp_path: Path) -> None:
    desk = Desk(
        store, sinks_from({"type": "jsonl", "name": "archive", "path": str(tmp_path / "a")})
    )
    await desk.customer_says("Hallo")
    await desk.settle()
    for argument in ("", " A-1"):
        await desk.agent_says(f"!case{argument}")
        await desk.settle()
    await desk.close()
    assert "Linked case A-1" in desk.chat.posts[await desk.thread_of()][-1]


async def test_one_sink_down_does_not_hold_up_another(
    store: Store, zammad: FakeZammad, tmp_path: Path
) -> None:
    desk = Desk(store, sinks_from(*tables(zammad, tmp_path / "a.jsonl")), max_attempts=20)
    zammad.fail_next(503, times=8)
    await desk.customer_says("Hallo")
    await desk.drain()
    await desk.customer_says("Noch da?")
    await desk.drain()
    lines = (tmp_path / "a.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["opened", "message_in", "message_in"]
    assert zammad.tickets == {}
    async with store.transaction() as tx:
        answer = await desk.cases.command(tx, 1, "", "Alice")
    assert "helpdesk: no case yet; 3 transfer(s) pending" in answer
    await desk.settle()
    await desk.close()
    assert len(zammad.notes(1)) == 3


@pytest.mark.parametrize(
    ("status", "headers", "retryable", "retry_after"),
    [
        (500, {}, True, None),
        (503, {}, True, None),
        (408, {}, True, None),
        (429, {"Retry-After": "30"}, True, 30.0),
        (429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, True, 0.0),
        (401, {}, False, None),
        (403, {}, False, None),
        (404, {}, False, None),
        (422, {}, False, None),
    ],
)
def test_wire_errors_map_to_retry_or_dead_letter(
    status: int, headers: dict[str, str], retryable: bool, retry_after: float | None
) -> None:
    response = httpx.Response(status, headers=headers)
    error = error_from_response(response, "webhook 'crm' opened", None)
    assert (error.retryable, error.retry_after, error.code) == (retryable, retry_after, status)
