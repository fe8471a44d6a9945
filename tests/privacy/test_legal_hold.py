"""``!hold <reason>`` / ``!release`` in a thread: the hold row, the audit rows, the answers."""

from __future__ import annotations

import json
from pathlib import Path

from bot.clock import ManualClock
from bot.store import Store
from tests.cases.conftest import Desk
from tests.numbers import CUSTOMER
from tests.support.store import peek


async def test_hold_needs_a_reason_is_audited_and_released(store_target: Path | str) -> None:
    db = store_target
    store = await Store.open(db, clock=ManualClock(1_800_000_000.0))
    desk = Desk(store)
    try:
        await desk.customer_says("Ich widerspreche der Rechnung")
        await desk.settle()
        thread = await desk.thread_of()
        for command in (
            "!hold",
            "!hold Klage anhängig, Anwalt 0151 98765432",
            "!hold noch einmal",
            "!release",
            "!release",
        ):
            await desk.agent_says(command)
            await desk.settle()
            if command == "!hold noch einmal":
                holds = await peek(db, "SELECT conversation_id, reason, held_by FROM legal_holds")
                assert holds == [
                    (1, "Klage anhängig, Anwalt [redacted-number]", "@alice:example.org")
                ]
        posts = desk.chat.posts[thread][1:]
        assert desk.whatsapp.sent == [], "commands never reach the customer"
    finally:
        await desk.close()
        await store.close()
    assert posts == [
        '!hold needs a reason, e.g. "!hold lawsuit 2026-17"; nothing was held.',
        "🧊 Legal hold placed by Alice: Klage anhängig, Anwalt [redacted-number]. Retention"
        " will not remove this conversation until !release.",
        "🧊 This conversation is already on legal hold: Klage anhängig, Anwalt [redacted-number]",
        "🔓 Legal hold released by Alice. Retention applies again.",
        "This conversation is not on legal hold; nothing was released.",
    ]
    assert await peek(db, "SELECT * FROM legal_holds") == []
    pseudonym = (await peek(db, "SELECT pseudonym FROM contacts WHERE wa_id = ?", (CUSTOMER,)))[0][
        0
    ]
    audit = await peek(db, "SELECT action, actor, subject, reason, details FROM audit_log")
    assert audit == [
        (
            "retention.hold",
            "@alice:example.org",
            pseudonym,
            "Klage anhängig, Anwalt [redacted-number]",
            json.dumps({"conversation": 1}, separators=(",", ":")),
        ),
        ("retention.release", "@alice:example.org", pseudonym, None, '{"conversation":1}'),
    ]
