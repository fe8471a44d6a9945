"""The sandbox as the customer's phone for mirroring: reactions, quote replies, edits,
deletes and button taps in Meta's wire format (driver API and CLI), the Business app's
echoes, and business reactions and buttons validated as Meta does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from adapters.whatsapp.parse import parse_webhook
from bot.cli import main
from bot.domain import MessageKind
from bot.sandbox import SandboxClient, payloads
from bot.sandbox.errors import DriverRequestError
from tests.sandbox.harness import CUSTOMER, CUSTOMER_WA_ID, Env, sandbox_env


@pytest_asyncio.fixture
async def env() -> AsyncIterator[Env]:
    async with sandbox_env() as running:
        yield running


def reaction(message_id: str, emoji: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": CUSTOMER_WA_ID,
        "type": "reaction",
        "reaction": {"message_id": message_id, "emoji": emoji},
    }


def buttons(*titles: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": CUSTOMER_WA_ID,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Passt Dienstag?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"option-{i}", "title": t}}
                    for i, t in enumerate(titles, 1)
                ]
            },
        },
    }


async def test_business_reactions_are_checked_like_meta(env: Env) -> None:
    wamid = env.sandbox.say(CUSTOMER, "Hallo")
    refused = await env.send(reaction(wamid, "lol"))
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 131009

    assert (await env.send(reaction(wamid, "👍🏽"))).status_code == 200
    assert (await env.send(reaction("wamid.unknown", "👍"))).status_code == 200
    await env.sandbox.idle(5)
    sent = [m for m in env.sandbox.inbox(CUSTOMER)["messages"] if m["type"] == "reaction"]
    # Meta: a reaction gets only a sent webhook; one on a message not in the chat fails
    assert [s["status"] for s in sent[0]["statuses"]] == ["sent"]
    assert [e["code"] for e in sent[1]["errors"]] == [131009]


async def test_buttons_are_limited_like_meta_and_a_tap_answers_the_message(env: Env) -> None:
    env.sandbox.say(CUSTOMER, "Hallo")
    too_many = await env.send(buttons("a", "b", "c", "d"))
    too_long = await env.send(buttons("Lieber am Mittwochvormittag"))
    assert [too_many.status_code, too_long.status_code] == [400, 400]
    sent = await env.send(buttons("Ja", "Nein"))
    question = sent.json()["messages"][0]["id"]
    with pytest.raises(DriverRequestError):
        env.sandbox.send_message({"from": CUSTOMER, "type": "text", "text": "x", "context": 1})
    async with SandboxClient(env.sandbox.base_url) as client:
        with pytest.raises(Exception, match="no reply button 'Vielleicht'"):
            await client.tap(CUSTOMER, "Vielleicht")
        await client.tap(CUSTOMER, "Nein")
    await env.sandbox.idle(5)
    tapped = env.receiver.messages[-1]
    assert tapped["context"]["id"] == question
    assert tapped["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "option-2", "title": "Nein"},
    }


async def test_cli_reacts_replies_edits_deletes_and_answers_from_the_business_app(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    first = env.sandbox.say(CUSTOMER, "Hallo")
    sent = (await env.send_text("Guten Tag")).json()["messages"][0]["id"]
    url = ["sandbox", "--url", env.sandbox.base_url]

    async def cli(*args: str) -> None:
        assert await asyncio.to_thread(main, [*url, *args]) == 0

    await cli("react", "--from", CUSTOMER, "👍")
    await cli("react", "--from", CUSTOMER, "--message", sent)
    await cli("say", "--from", CUSTOMER, "--reply-to", sent, "Danke")
    await cli("edit", "--from", CUSTOMER, "--message", first, "Hallo!")
    await cli("delete", "--from", CUSTOMER, "--message", first)
    await env.send(buttons("Ja", "Nein"))
    await cli("tap", "--from", CUSTOMER, "Ja")
    await cli("business-app", "--to", CUSTOMER, "Gern geschehen")
    await env.sandbox.idle(5)
    out = capsys.readouterr().out
    assert "tapped 'Ja'" in out and "sent from the Business app" in out

    got = env.receiver.messages[-6:]
    assert [m["type"] for m in got] == [
        "reaction",
        "reaction",
        "text",
        "edit",
        "revoke",
        "interactive",
    ]
    assert got[0]["reaction"] == {"message_id": sent, "emoji": "👍"}
    assert got[1]["reaction"] == {"message_id": sent, "emoji": ""}
    assert got[2]["context"]["id"] == sent
    assert got[3]["edit"] == {
        "original_message_id": first,
        "message": {"type": "text", "text": {"body": "Hallo!"}},
    }
    assert got[4]["revoke"] == {"original_message_id": first}
    echo_post = env.receiver.received[-1]
    assert echo_post.signature_ok()
    assert echo_post.json["entry"][0]["changes"][0]["field"] == "smb_message_echoes"
    [echo] = parse_webhook(echo_post.body).echoes
    assert (echo.to, echo.kind, echo.text) == (CUSTOMER_WA_ID, MessageKind.TEXT, "Gern geschehen")
    assert payloads.encode(echo_post.json) == echo_post.body
