"""Mirroring on Slack (the fake), end to end with the sandbox as the customer's phone:
reactions, replies, edits and deletes both ways, ``!buttons``, echoes, referral, call
permission. Every scenario ends with the store and the chat free of a deleted text and
a scan of everything the bot sent to Slack for the customer's number."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from adapters.slack import pacing
from bot.sandbox.customer_actions import business_app_sends, tap
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_reactions import agent_reacts
from tests.masking import leaked_digits
from tests.mirroring.store_scan import stored_anywhere
from tests.numbers import CUSTOMER
from tests.slack.stack import AGENT, OUTSIDER, TS, SlackStack, wait_for

NUMBER = "+" + CUSTOMER
SECRET = "Mein Passwort ist Kuckuck77"
FAST_INTERVAL = 0.05


@pytest_asyncio.fixture
async def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackStack]:
    monkeypatch.setattr(pacing, "POST_INTERVAL_SECONDS", FAST_INTERVAL)
    fake = FakeSlack(mode="socket", rate=1 / FAST_INTERVAL, ack_timeout=1.0)
    running = SlackStack("socket", tmp_path / "empfang.sqlite3", fake)
    await running.start()
    yield running
    await running.stop()


def texts(stack: SlackStack, thread: str) -> list[str]:
    return stack.fake.bot_texts(thread)


async def shows(stack: SlackStack, thread: str, needle: str) -> str:
    """The bot's post in ``thread`` that contains ``needle``, once there."""

    def probe() -> str | None:
        return next((t for t in texts(stack, thread) if needle in t), None)

    return str(await wait_for(probe, 15))


async def first_reply(stack: SlackStack, text: str) -> dict[str, Any]:
    """The business's message with ``text`` on the customer's phone, once sent."""

    def probe() -> dict[str, Any] | None:
        return next((m for m in stack.inbox(NUMBER) if m["text"] == text), None)

    found: dict[str, Any] = await wait_for(probe, 15)
    return found


async def test_customer_reactions_replies_edits_and_deletes_show_on_their_posts(
    stack: SlackStack,
) -> None:
    assert stack.sandbox is not None and stack.settings is not None
    first = stack.say(NUMBER, "Hallo, Bestellung 4711 fehlt")
    thread = await stack.thread_of(NUMBER)
    await shows(stack, thread, "Bestellung 4711")
    agent_ts = await stack.fake.agent_reply(thread, AGENT, "Wir schauen nach.")
    sent = await first_reply(stack, "Wir schauen nach.")

    # a reaction on the agent's reply shows on that reply, and goes when taken back
    stack.sandbox.send_message(
        {"from": NUMBER, "type": "reaction", "message_id": sent["id"], "emoji": "👍"}
    )
    await wait_for(lambda: "+1" in stack.fake.reactions(agent_ts), 15)
    stack.sandbox.send_message(
        {"from": NUMBER, "type": "reaction", "message_id": sent["id"], "emoji": ""}
    )
    await wait_for(lambda: "+1" not in stack.fake.reactions(agent_ts), 15)
    # an emoji Slack has no name for is a line quoting the post
    stack.sandbox.send_message(
        {"from": NUMBER, "type": "reaction", "message_id": sent["id"], "emoji": "🦩"}
    )
    assert "Wir schauen nach." in await shows(stack, thread, "🦩")

    # a reply quotes the first line of the post it answers
    stack.sandbox.say(NUMBER, "Danke! Wann kommt sie?", reply_to=sent["id"])
    assert await shows(stack, thread, "Wann kommt sie") == (
        "&gt; Wir schauen nach.\nDanke! Wann kommt sie?"
    )

    # an edit changes the customer's post in place
    stack.sandbox.send_message(
        {
            "from": NUMBER,
            "type": "edit",
            "original_message_id": first,
            "text": "Hallo, Bestellung 4712 fehlt",
        }
    )
    edited = await shows(stack, thread, "4712")
    assert "4711" not in " ".join(texts(stack, thread)) and "(edited)" in edited

    # a delete removes the text from the chat and from the store
    secret = stack.say(NUMBER, SECRET)
    await shows(stack, thread, "Kuckuck")
    stack.sandbox.send_message({"from": NUMBER, "type": "revoke", "original_message_id": secret})
    await shows(stack, thread, "The customer deleted this message")
    await stack.settled()
    assert not any("Kuckuck" in t for t in texts(stack, thread))
    assert stored_anywhere(stack.settings.store.path, "Kuckuck") == []
    # the whole phrase: "4711" alone turns up in stored timestamps now and then
    assert stored_anywhere(stack.settings.store.path, "Bestellung 4711") == [], (
        "an edit keeps no old text"
    )
    assert leaked_digits(TS.sub("<ts>", stack.fake.wire_text()), CUSTOMER) is None


async def test_agent_reactions_reach_whatsapp_and_their_removal_too(stack: SlackStack) -> None:
    assert stack.sandbox is not None
    customer_line = stack.say(NUMBER, "Ist das Paket unterwegs?")
    thread = await stack.thread_of(NUMBER)
    await shows(stack, thread, "Paket")
    post = next(m["ts"] for m in stack.fake.thread(thread) if "Paket" in m.get("text", ""))

    await agent_reacts(stack.fake, post, AGENT, "thumbsup::skin-tone-3")
    reaction = await wait_for(
        lambda: [m for m in stack.inbox(NUMBER) if m["type"] == "reaction"], 15
    )
    assert reaction[0]["content"] == {"message_id": customer_line, "emoji": "👍🏼"}
    await agent_reacts(stack.fake, post, AGENT, "thumbsup::skin-tone-3", removed=True)
    removals = await wait_for(
        lambda: [
            m
            for m in stack.inbox(NUMBER)
            if m["type"] == "reaction" and m["content"]["emoji"] == ""
        ],
        15,
    )
    assert removals[0]["content"]["message_id"] == customer_line

    # a custom emoji cannot reach WhatsApp: the thread says so, nothing is sent
    await agent_reacts(stack.fake, post, AGENT, "partyparrot")
    await shows(stack, thread, ":partyparrot: was not sent")
    # someone not allowed to answer customers reacts: refused, nothing sent
    stack.fake.channels[stack.fake.channel_id].members.add(OUTSIDER)
    await agent_reacts(stack.fake, post, OUTSIDER, "heart")
    await stack.settled()
    assert len([m for m in stack.inbox(NUMBER) if m["type"] == "reaction"]) == 2


async def test_buttons_are_checked_sent_and_the_tap_comes_back_as_the_answer(
    stack: SlackStack,
) -> None:
    assert stack.sandbox is not None
    stack.say(NUMBER, "Wann passt die Lieferung?")
    thread = await stack.thread_of(NUMBER)
    await shows(stack, thread, "Lieferung")
    await stack.fake.agent_reply(
        thread, AGENT, "!buttons Passt Dienstag? | Ja | Nein | Später | Nie"
    )
    await shows(stack, thread, "Usage: !buttons")
    await stack.fake.agent_reply(
        thread, AGENT, "!buttons Passt Dienstag? | Ja | Lieber am Mittwochvormittag"
    )
    await shows(stack, thread, "Option 2 has 27 characters")
    await stack.settled()
    assert stack.inbox(NUMBER) == [], "refused before any request"

    await stack.fake.agent_reply(thread, AGENT, "!buttons Passt Dienstag? | Ja | Nein")
    sent = await wait_for(lambda: stack.inbox(NUMBER), 15)
    assert sent[0]["type"] == "interactive"
    buttons = sent[0]["content"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["Ja", "Nein"]
    tap(stack.sandbox, NUMBER, "Nein")
    assert await shows(stack, thread, "Chose: Nein") == "&gt; Passt Dienstag?\n🔘 Chose: Nein"


async def test_business_app_echo_referral_and_call_permission_are_shown(stack: SlackStack) -> None:
    assert stack.sandbox is not None
    stack.sandbox.send_message(
        {
            "from": NUMBER,
            "type": "text",
            "text": "Ich komme von Ihrer Anzeige",
            "referral": {
                "source_url": f"https://fb.me/ad?ref={CUSTOMER}",
                "source_id": "120200000000001",
                "source_type": "ad",
                "headline": "Frühlingsaktion",
                "body": "20 % auf alles",
                "media_type": "image",
                "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ",
            },
        }
    )
    thread = await stack.thread_of(NUMBER)
    ad = await shows(stack, thread, "Came from an ad")
    assert "Frühlingsaktion" in ad and leaked_digits(ad, CUSTOMER) is None

    business_app_sends(stack.sandbox, NUMBER, "Gern, wir melden uns!")
    await shows(stack, thread, "Sent from the WhatsApp Business app: Gern, wir melden uns!")

    for response in ("accept", "reject"):
        stack.sandbox.send_message(
            {
                "from": NUMBER,
                "message": {
                    "type": "interactive",
                    "interactive": {
                        "type": "call_permission_reply",
                        "call_permission_reply": {
                            "response": response,
                            "expiration_timestamp": 1753000000,
                            "response_source": "user_action",
                        },
                    },
                },
            }
        )
    await shows(stack, thread, "Call permission: accepted")
    await shows(stack, thread, "Call permission: declined")
    await stack.settled()
    assert not any(t.rstrip().endswith("Chose:") for t in texts(stack, thread))
    assert leaked_digits(TS.sub("<ts>", stack.fake.wire_text()), CUSTOMER) is None


async def test_an_edit_or_delete_of_a_combined_line_renders_the_whole_post_again(
    stack: SlackStack,
) -> None:
    """Slack's pacing combines queued lines into one post (``bot.batching``): an edit or
    delete of one of them changes that line and keeps the others."""
    assert stack.sandbox is not None and stack.settings is not None
    stack.say(NUMBER, "Hallo")
    thread = await stack.thread_of(NUMBER)
    await shows(stack, thread, "Hallo")
    stack.fake.throttle(2)
    wamids = [stack.say(NUMBER, line) for line in ("eins", "zwei", "drei Kuckuck", "vier")]

    def combined() -> dict[str, Any] | None:
        return next(
            (m for m in stack.fake.thread(thread) if "\n" in m.get("text", "")),
            None,
        )

    post = await wait_for(combined, 20)
    before = post["text"].split("\n")
    assert len(before) >= 2 and "drei Kuckuck" in before, before
    head = wamids[["eins", "zwei", "drei Kuckuck", "vier"].index(before[0])]
    stack.sandbox.send_message(
        {"from": NUMBER, "type": "edit", "original_message_id": head, "text": "neu"}
    )
    stack.sandbox.send_message({"from": NUMBER, "type": "revoke", "original_message_id": wamids[2]})
    expected = [
        "neu ✏️ (edited)"
        if line == before[0]
        else "🗑 The customer deleted this message"
        if line == "drei Kuckuck"
        else line
        for line in before
    ]
    await wait_for(lambda: stack.fake.message(post["ts"])["text"].split("\n") == expected, 20)
    await stack.settled()
    assert stored_anywhere(stack.settings.store.path, "Kuckuck") == []
