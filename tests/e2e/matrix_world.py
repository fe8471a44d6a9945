"""Helpers for end-to-end tests on the demo stack (real Synapse, sandbox, bot)."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.demo.stack import RoomView, wait_for


def thread_of(event: dict[str, Any]) -> str:
    relation = event.get("content", {}).get("m.relates_to", {})
    return str(relation.get("event_id", "")) if relation.get("rel_type") == "m.thread" else ""


def reactions_on(events: list[dict[str, Any]], target: str) -> list[str]:
    """Reactions on ``target`` that are still visible (not redacted)."""
    redacted = {e.get("redacts") for e in events if e.get("type") == "m.room.redaction"}
    found = []
    for event in events:
        relation = event.get("content", {}).get("m.relates_to", {})
        if (
            event.get("type") == "m.reaction"
            and relation.get("event_id") == target
            and event.get("event_id") not in redacted
            and event.get("content")  # redacted events lose their content
        ):
            found.append(str(relation.get("key")))
    return found


async def thread_bodies(view: RoomView, root: str) -> list[str]:
    return [
        str(e["content"].get("body"))
        for e in await view.messages()
        if thread_of(e) == root and e["content"].get("body")
    ]


async def wait_for_thread_bodies(view: RoomView, root: str, count: int) -> list[str]:
    async def probe() -> list[str] | None:
        bodies = await thread_bodies(view, root)
        return bodies if len(bodies) >= count else None

    return await wait_for(probe, within=30)


async def roots(view: RoomView, bot_user: str) -> list[dict[str, Any]]:
    """Thread roots the bot posted (messages without a relation)."""
    return [
        e
        for e in await view.messages()
        if e["sender"] == bot_user and not e["content"].get("m.relates_to")
    ]


def leaks(events: list[dict[str, Any]], number: str) -> list[str]:
    """Every place in the events' content (bodies, formatted bodies, any custom field) where
    the number or 5+ consecutive digits of it show. Relations are left out: they hold only
    event ids, whose random characters could fake a match."""
    contents = [
        {k: v for k, v in e.get("content", {}).items() if k != "m.relates_to"} for e in events
    ]
    dump = json.dumps(contents, ensure_ascii=False)
    digits_only = re.sub(r"\D", "", dump)
    found = []
    if number in dump or number in digits_only:
        found.append("full number")
    for start in range(len(number) - 4):
        chunk = number[start : start + 5]
        # Compare against digit runs, so "+49 151 12…" split by spaces still counts.
        for run in re.findall(r"\d[\d \-/().]*\d", dump):
            if chunk in re.sub(r"\D", "", run):
                found.append(chunk)
                break
    return found
