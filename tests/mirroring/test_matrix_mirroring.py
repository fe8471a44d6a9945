"""Mirroring on a real Synapse, end to end with the sandbox as the customer's phone:
reactions, quote replies, edits and deletes both ways, and the root naming who handles the
conversation. Afterwards no event of the room and no row of the store holds the deleted
text, and no event shows the customer's number."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest_asyncio

from bot.demo.stack import (
    RoomView,
    Stack,
    SupportRoom,
    create_support_room,
    free_port,
    stack_settings,
    wait_for,
)
from bot.demo.synapse import LocalSynapse
from bot.sandbox.customer_actions import tap
from tests.e2e.matrix_world import leaks, reactions_on, roots, thread_of
from tests.masking import leaked_digits
from tests.mirroring.store_scan import stored_anywhere
from tests.numbers import CUSTOMER

NUMBER = "+" + CUSTOMER
World = tuple[Stack, SupportRoom, RoomView]


@pytest_asyncio.fixture
async def world(synapse: LocalSynapse, tmp_path: Path) -> AsyncIterator[World]:
    room = await create_support_room(synapse)
    stack = Stack(stack_settings(tmp_path, room, bot_port=free_port()))
    await stack.start()
    yield stack, room, RoomView(synapse, room.agent, room.room_id)
    await stack.stop()


async def post_with(view: RoomView, root: str, needle: str) -> dict[str, Any]:
    """The thread's message whose body holds ``needle`` (edits left out), once there."""

    async def probe() -> dict[str, Any] | None:
        for event in await view.messages():
            content = event.get("content", {})
            if thread_of(event) == root and needle in str(content.get("body", "")):
                return event
        return None

    return await wait_for(probe, within=30)


async def edit_of(view: RoomView, event_id: str, needle: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        for event in await view.messages():
            relation = event.get("content", {}).get("m.relates_to", {})
            new = event.get("content", {}).get("m.new_content", {})
            if relation.get("event_id") == event_id and needle in str(new.get("body", "")):
                return event
        return None

    return await wait_for(probe, within=30)


async def phone_shows(stack: Stack, kind: str, count: int = 1) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        found = [m for m in stack.sandbox.inbox(CUSTOMER)["messages"] if m["type"] == kind]
        return found if len(found) >= count else None

    return await wait_for(probe, within=30)


async def redact(synapse: LocalSynapse, room: SupportRoom, event_id: str) -> None:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        response = await client.put(
            f"{synapse.base_url}/_matrix/client/v3/rooms/{quote(room.room_id, safe='')}"
            f"/redact/{quote(event_id, safe='')}/{secrets.token_hex(8)}",
            json={},
            headers={"Authorization": f"Bearer {room.agent.access_token}"},
        )
    response.raise_for_status()


def in_thread(root: str, text: str, reply_to: str) -> dict[str, Any]:
    """A quote reply inside the thread, as Element sends one."""
    return {
        "msgtype": "m.text",
        "body": text,
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": False,
            "m.in_reply_to": {"event_id": reply_to},
        },
    }


async def test_mirrored_both_ways_and_a_deleted_text_is_gone_from_room_and_store(
    world: World, synapse: LocalSynapse
) -> None:
    stack, room, view = world
    first = stack.sandbox.say(NUMBER, "Hallo, Bestellung 4711 fehlt")
    root = (await wait_for(lambda: roots(view, room.bot.user_id), within=30))[0]["event_id"]
    first_post = (await post_with(view, root, "4711"))["event_id"]

    # an agent's answer names them on the root card
    reply = await view.reply_in_thread(root, "Wir schauen nach.")
    sent = (await phone_shows(stack, "text"))[0]
    assert (
        "handled by"
        in (await edit_of(view, root, "handled by"))["content"]["m.new_content"]["body"]
    )

    # the customer's reaction on the agent's answer, and its removal
    reaction = {"from": NUMBER, "type": "reaction", "message_id": sent["id"]}
    stack.sandbox.send_message({**reaction, "emoji": "👍"})

    async def shown(emoji: str, present: bool) -> bool:
        return (emoji in reactions_on(await view.events(), reply)) is present

    await wait_for(lambda: shown("👍", True), within=30)
    stack.sandbox.send_message({**reaction, "emoji": ""})
    await wait_for(lambda: shown("👍", False), within=30)

    # a customer's reply is a quote reply to the post it answers, inside the thread
    stack.sandbox.say(NUMBER, "Danke! Wann kommt sie?", reply_to=sent["id"])
    relation = (await post_with(view, root, "Wann kommt sie"))["content"]["m.relates_to"]
    assert relation["is_falling_back"] is False
    assert relation["m.in_reply_to"] == {"event_id": reply}

    # an edit replaces the post's text
    edit = {"from": NUMBER, "type": "edit", "original_message_id": first}
    stack.sandbox.send_message({**edit, "text": "Hallo, Bestellung 4712 fehlt"})
    await edit_of(view, first_post, "4712")

    # edited, then deleted: the post and its edit are redacted, a notice takes its place
    secret = stack.sandbox.say(NUMBER, "Passwort Kuckuck77")
    secret_post = (await post_with(view, root, "Kuckuck77"))["event_id"]
    stack.sandbox.send_message(
        {"from": NUMBER, "type": "edit", "original_message_id": secret, "text": "Kuckuck78"}
    )
    await edit_of(view, secret_post, "Kuckuck78")
    stack.sandbox.send_message({"from": NUMBER, "type": "revoke", "original_message_id": secret})
    await post_with(view, root, "The customer deleted this message")

    async def gone() -> bool:
        contents = [str(e.get("content")) for e in await view.events()]
        return not any("Kuckuck" in content for content in contents)

    await wait_for(gone, within=30)
    assert stored_anywhere(stack.settings.store.path, "Kuckuck") == []

    # the agent's reaction on a customer line goes to WhatsApp, and so does its removal
    heart = await synapse.send_message(
        room.agent,
        room.room_id,
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": first_post, "key": "❤️"}},
        event_type="m.reaction",
    )
    sent_reaction = (await phone_shows(stack, "reaction"))[0]
    assert sent_reaction["content"] == {"message_id": first, "emoji": "❤️"}
    await redact(synapse, room, heart)
    removal = (await phone_shows(stack, "reaction", 2))[1]
    assert removal["content"] == {"message_id": first, "emoji": ""}

    # the agent's quote reply to a customer line quotes it on WhatsApp
    await synapse.send_message(
        room.agent, room.room_id, in_thread(root, "Die 4712 ist unterwegs.", first_post)
    )
    quoted = (await phone_shows(stack, "text", 2))[1]
    assert quoted["context"] == {"message_id": first}

    # buttons: the tap comes back as the customer's quote reply to the question
    question = await view.reply_in_thread(root, "!buttons Passt Dienstag? | Ja | Nein")
    await phone_shows(stack, "interactive")
    tap(stack.sandbox, NUMBER, "Ja")
    answer = await post_with(view, root, "Chose: Ja")
    assert answer["content"]["m.relates_to"]["m.in_reply_to"] == {"event_id": question}

    events = await view.events()
    assert leaks(events, CUSTOMER) == []
    contents = [
        {k: v for k, v in e.get("content", {}).items() if k != "m.relates_to"} for e in events
    ]
    assert leaked_digits(json.dumps(contents, ensure_ascii=False), CUSTOMER) is None
