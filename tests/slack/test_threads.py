"""The relay's behaviours in Slack, end to end, in Socket Mode and in HTTP mode.

Customers write through the WhatsApp sandbox, agents act in the fake Slack; the bot in
between is ``bot.app.Empfang`` with its production adapters.
"""

from __future__ import annotations

import json

from adapters.slack.blocks import escape
from bot.texts import ENGLISH
from tests.numbers import CUSTOMER, CUSTOMER_2, THIRD_PARTY
from tests.slack.conftest import StartStack
from tests.slack.stack import AGENT, AGENT_2, OUTSIDER, Mode, SlackStack, leaks, wait_for

ANNA = "+" + CUSTOMER
BERT = "+" + CUSTOMER_2


def inbox_texts(stack: SlackStack, number: str) -> list[str]:
    return [str(m["text"]) for m in stack.inbox(number)]


async def test_thread_per_conversation_lines_in_order_and_masked(stack: SlackStack) -> None:
    anna_lines = [
        "Guten Tag, meine Bestellung fehlt",
        "Ruf mich an: 0151 12345678",
        f"Oder meinen Mann: +{THIRD_PARTY}",
        "<!channel> <@U0AGENTANNA> & Co",
    ]
    bert_lines = ["Hallo?", "Ist da jemand"]
    for line in anna_lines:
        stack.say(ANNA, line, name="Anna Kundin")
    for line in bert_lines:
        stack.say(BERT, line)
    anna_thread = await stack.thread_of(ANNA)
    bert_thread = await stack.thread_of(BERT)
    await stack.settled()

    roots = stack.fake.roots()
    assert [r["ts"] for r in roots] == sorted([anna_thread, bert_thread])
    posted = stack.lines(anna_thread)
    assert len(posted) == 4
    assert posted[0] == "Guten Tag, meine Bestellung fehlt"
    for index, prefix in ((1, "Ruf mich an: +49 "), (2, "Oder meinen Mann: +49 ")):
        assert posted[index].startswith(prefix) and "••" in posted[index], posted[index]
        assert posted[index].endswith("78")
    assert posted[3] == "&lt;!channel&gt; &lt;@U0AGENTANNA&gt; &amp; Co"
    assert stack.lines(bert_thread) == bert_lines

    root = stack.fake.message(anna_thread)
    title, details, actions = root["blocks"]
    assert title["text"]["text"].startswith("*💬 K-") and "••" in title["text"]["text"]
    assert details["elements"][0]["text"] == "State: open, waiting for an agent"
    [(conversation_id,)] = stack.rows(
        "SELECT id FROM conversations WHERE thread_id = ?", anna_thread
    )
    assert [(b["action_id"], b["text"]["text"], b["value"]) for b in actions["elements"]] == [
        ("claim", "Claim", str(conversation_id)),
        ("close", "Close", str(conversation_id)),
        ("send_template", "Send template", str(conversation_id)),
    ]
    assert root["metadata"]["event_payload"]["key"].endswith(f":root-{conversation_id}")

    # Every byte the bot sent to Slack: texts, blocks, metadata, query strings.
    assert leaks(stack.fake.wire_text(), [CUSTOMER, CUSTOMER_2, THIRD_PARTY]) == []


async def test_agent_reply_reaches_the_customer_with_status_reactions(
    mode: Mode, fast_slack: None, start_stack: StartStack
) -> None:
    """Receipts 0.3 s apart, as phones send them: the relay shows the latest receipt when
    its job runs, so receipts closer together than a job takes may skip a mark (by design)."""
    stack = await start_stack(mode, sandbox={"status_delay_seconds": 0.3})
    stack.say(ANNA, "Wann kommt mein Paket?")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Wann kommt mein Paket?"])

    reply = await stack.fake.agent_reply(
        thread, AGENT, "Morgen! Frag sonst <@U0AGENTBEN> &amp; <https://example.org/t|Tracking>"
    )
    await wait_for(lambda: inbox_texts(stack, ANNA))
    await stack.settled()
    await wait_for(lambda: stack.fake.reactions(reply) == ["eyes"])

    assert inbox_texts(stack, ANNA) == [
        "Morgen! Frag sonst @Ben Berger & Tracking (https://example.org/t)"
    ]
    added = [r.args["name"] for r in stack.fake.calls("reactions.add")]
    assert added == ["hourglass_flowing_sand", "heavy_check_mark", "white_check_mark", "eyes"]
    removed = [r.args["name"] for r in stack.fake.calls("reactions.remove")]
    assert removed == added[:-1]
    # Display names are looked up once per user, then cached.
    looked_up = [r.args["user"] for r in stack.fake.calls("users.info")]
    assert sorted(looked_up) == sorted(set(looked_up))


async def test_notes_commands_and_edits(stack: SlackStack) -> None:
    stack.say(ANNA, "Hallo")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Hallo"])

    await stack.fake.agent_reply(thread, AGENT, "!note Kundin hat schon zweimal angerufen")
    await stack.fake.agent_reply(thread, AGENT, "!help")
    await stack.fake.agent_reply(thread, AGENT, "!frobnicate")
    sent = await stack.fake.agent_reply(thread, AGENT, "Wir kümmern uns darum.")
    await stack.fake.edit(sent, AGENT, "Wir kümmern uns sofort darum.")
    await stack.settled()

    assert inbox_texts(stack, ANNA) == ["Wir kümmern uns darum."]
    notices = stack.fake.bot_texts(thread)[1:]
    assert notices[0] == escape(ENGLISH.help)  # no <text> markup reaches Slack
    assert notices[1].startswith("Unknown command !frobnicate; nothing was sent.")
    assert notices[2].startswith("✏️ WhatsApp messages can't be edited")
    assert len(notices) == 3


async def test_explicit_reply_mode(mode: Mode, fast_slack: None, start_stack: StartStack) -> None:
    stack = await start_stack(mode, privacy={"reply_mode": "explicit"})
    stack.say(ANNA, "Hallo")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Hallo"])

    await stack.fake.agent_reply(thread, AGENT, "Wer kennt die Kundin?")
    await stack.fake.agent_reply(thread, AGENT_2, "!send Guten Tag, wie können wir helfen?")
    await stack.settled()

    assert inbox_texts(stack, ANNA) == ["Guten Tag, wie können wir helfen?"]


async def test_claim_and_close_buttons(stack: SlackStack) -> None:
    stack.say(ANNA, "Hallo")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Hallo"])

    pressed = await stack.fake.press_button(thread, AGENT, "claim")
    assert pressed.acked
    await stack.settled()
    root = stack.fake.message(thread)
    details = [e["text"] for e in root["blocks"][1]["elements"]]
    assert "State: open, handled by Anna" in details
    assert root["blocks"][-1]["elements"][0]["text"]["text"] == "Take over"

    await stack.fake.press_button(thread, AGENT_2, "close")
    await stack.settled()
    root = stack.fake.message(thread)
    assert [b["type"] for b in root["blocks"]] == ["section", "context"]  # no buttons
    assert "State: closed" in root["text"]
    assert stack.fake.bot_texts(thread)[-1].startswith("🔒 Closed by Ben Berger.")

    stack.say(ANNA, "Noch eine Frage")
    await wait_for(lambda: stack.thread_id(ANNA) not in (None, thread))
    second = await stack.thread_of(ANNA)
    await stack.lines_arrive(second, ["Noch eine Frage"])
    assert len(stack.fake.roots()) == 2


async def test_close_command(stack: SlackStack) -> None:
    stack.say(ANNA, "Danke, alles erledigt")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Danke, alles erledigt"])
    await stack.fake.agent_reply(thread, AGENT, "!close")
    await stack.settled()
    assert "State: closed" in stack.fake.message(thread)["text"]
    assert inbox_texts(stack, ANNA) == []


async def test_ignored_senders(stack: SlackStack) -> None:
    stack.say(ANNA, "Hallo")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Hallo"])

    await stack.fake.other_bot_reply(thread, "Build #41 passed", classic=True)
    await stack.fake.other_bot_reply(thread, "Reminder: lunch", classic=False)
    await stack.fake.agent_reply(thread, OUTSIDER, "Ich antworte mal")
    await stack.fake.agent_reply(None, AGENT, "Team, wer übernimmt?")  # not in a thread
    refused = await stack.fake.press_button(thread, OUTSIDER, "close")
    await stack.settled()

    assert refused.acked
    assert inbox_texts(stack, ANNA) == []
    assert stack.fake.bot_texts(thread)[1:] == [
        "⛔ Olaf is not allowed to answer customers; nothing was sent."
    ]
    assert "State: open" in stack.fake.message(thread)["text"]
    assert [(e["user"], e["text"][:1]) for e in stack.fake.ephemeral] == [(OUTSIDER, "⛔")]
    # The bot's own posts came back as events and were dropped: nothing else was relayed.
    own_events = [
        d for d in stack.fake.deliveries if d.body.get("event", {}).get("bot_id") == "B0EMPFANG"
    ]
    assert own_events and all(d.acked for d in own_events)
    assert stack.rows("SELECT count(*) FROM messages WHERE direction = 'out'") == [(0,)]


async def test_failures_are_explained_in_the_thread(stack: SlackStack) -> None:
    stack.say(ANNA, "Hallo")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Hallo"])
    assert stack.sandbox is not None
    stack.sandbox.set_unreachable(ANNA)

    reply = await stack.fake.agent_reply(thread, AGENT, "Sind Sie noch da?")
    await wait_for(lambda: stack.fake.reactions(reply) == ["x"])
    await stack.settled()

    explanation = stack.fake.bot_texts(thread)[-1]
    assert explanation.startswith("❌ Not delivered: this customer's number")
    assert json.dumps(stack.fake.message(reply).get("reactions")).count("U0EMPFANG") == 1
