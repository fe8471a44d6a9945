"""``[ui] language = "de"``: a whole thread in German, through the production composition
(``bot.app.Empfang``) on the fake Slack, with the customer writing through the sandbox."""

from __future__ import annotations

from adapters.slack.blocks import escape
from bot.texts import GERMAN
from tests.numbers import CUSTOMER
from tests.slack.conftest import StartStack
from tests.slack.stack import AGENT, AGENT_2, OUTSIDER

ANNA = "+" + CUSTOMER


async def test_a_german_thread_end_to_end(fast_slack: None, start_stack: StartStack) -> None:
    stack = await start_stack("socket", ui={"language": "de"})
    stack.say(ANNA, "Guten Tag, wo bleibt meine Bestellung?")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Guten Tag, wo bleibt meine Bestellung?"])

    root = stack.fake.message(thread)
    details = [e["text"] for e in root["blocks"][1]["elements"]]
    assert details[0] == "Status: offen, noch nicht übernommen"
    assert details[1].startswith("WhatsApp-Fenster offen bis ") and " Uhr (" in details[1]
    assert details[-1] == escape(GERMAN.root_hint)
    buttons = [b["text"]["text"] for b in root["blocks"][-1]["elements"]]
    assert buttons == ["Übernehmen", "Schließen", "Vorlage senden"]
    assert root["blocks"][-1]["elements"][1]["confirm"]["deny"]["text"] == "Abbrechen"

    await stack.fake.agent_reply(thread, AGENT, "!help")
    await stack.fake.agent_reply(thread, AGENT, "!frobnicate")
    await stack.fake.agent_reply(thread, OUTSIDER, "Ich antworte mal")
    await stack.fake.press_button(thread, OUTSIDER, "close")
    await stack.fake.press_button(thread, AGENT, "claim")
    await stack.settled()
    root = stack.fake.message(thread)
    assert "Status: offen, in Bearbeitung durch Anna" in root["text"]
    assert root["blocks"][-1]["elements"][0]["text"]["text"] == "Selbst übernehmen"

    await stack.fake.agent_reply(thread, AGENT_2, "!close")
    await stack.settled()
    await stack.fake.agent_reply(thread, AGENT, "Sind Sie noch da?")
    await stack.settled()

    assert stack.fake.bot_texts(thread)[1:] == [
        escape(GERMAN.help),
        "Unbekannter Befehl !frobnicate; es wurde nichts gesendet. !help zeigt die Befehle.",
        "⛔ Olaf ist nicht berechtigt, Kunden zu antworten; es wurde nichts gesendet.",
        "🔒 Geschlossen von Ben Berger. Die nächste Nachricht des Kunden eröffnet einen neuen "
        "Thread.",
        "Diese Unterhaltung ist geschlossen; es wurde nichts gesendet. Die nächste Nachricht "
        "des Kunden eröffnet einen neuen Thread.",
    ]
    assert [e["text"] for e in stack.fake.ephemeral] == [
        "⛔ Olaf ist nicht berechtigt, Unterhaltungen zu schließen."
    ]
    root = stack.fake.message(thread)
    assert [b["type"] for b in root["blocks"]] == ["section", "context"]
    assert "Status: geschlossen" in root["text"]
    assert stack.inbox(ANNA) == []
