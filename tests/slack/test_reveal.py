"""``!reveal <reason>`` on Slack: the number as an ephemeral message to the asking agent
alone, the reason for everyone in the thread, refusals, the daily cap, the audit rows.
The whole bot (``bot.app``) against the fake Slack and the WhatsApp sandbox."""

from __future__ import annotations

import json

from tests.fakes.slack import FakeSlack
from tests.numbers import CUSTOMER
from tests.slack.conftest import FAST_INTERVAL, StartStack
from tests.slack.stack import AGENT, AGENT_2, leaks

ERIKA = "+" + CUSTOMER


async def test_reveal_to_the_listed_agent_alone_with_reason_cap_and_audit(
    fast_slack: None, start_stack: StartStack
) -> None:
    fake = FakeSlack(mode="socket", rate=1 / FAST_INTERVAL, ack_timeout=1.0)
    stack = await start_stack(
        "socket", fake=fake, privacy={"reveal_users": [AGENT], "reveal_per_day": 2}
    )
    stack.say(ERIKA, "Bitte rufen Sie mich an")
    thread = await stack.thread_of(ERIKA)
    await fake.agent_reply(thread, AGENT, "!reveal Rückruf erbeten, Ticket 0151 2233445")
    await stack.settled()

    (shown,) = fake.ephemeral
    assert shown["user"] == AGENT and shown["channel"] == fake.channel_id
    assert shown["thread_ts"] == thread
    assert ERIKA in shown["text"]
    announced = "🔓 Anna revealed the number: Rückruf erbeten, Ticket"
    assert any(line.startswith(announced) for line in stack.lines(thread))
    assert leaks("\n".join(fake.bot_texts(thread)), [CUSTOMER]) == []

    await fake.agent_reply(thread, AGENT_2, "!reveal nur neugierig")  # not on reveal_users
    await fake.agent_reply(thread, AGENT, "!reveal")  # no reason
    await fake.agent_reply(thread, AGENT, "!reveal Lieferadresse klären")
    await fake.agent_reply(thread, AGENT, "!reveal noch einmal")  # third today: over the cap
    await stack.settled()
    assert [e["user"] for e in fake.ephemeral] == [AGENT, AGENT]
    lines = stack.lines(thread)
    assert "⛔ Ben Berger may not reveal numbers; nothing was revealed." in lines
    assert any(line.startswith("!reveal needs a reason") for line in lines)
    assert "⛔ Anna has revealed 2 numbers today, the most allowed; nothing was revealed." in lines

    rows = stack.rows(
        "SELECT actor, subject, reason, details FROM audit_log WHERE action = 'number.reveal'"
    )
    assert [(actor, reason) for actor, _, reason, _ in rows] == [
        (AGENT, "Rückruf erbeten, Ticket [redacted-number]"),
        (AGENT, "Lieferadresse klären"),
    ]
    assert all(subject.startswith("K-") for _, subject, _, _ in rows)
    assert leaks(json.dumps(rows, ensure_ascii=False), [CUSTOMER]) == []
