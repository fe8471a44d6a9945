"""Agents' reactions in the fake Slack: ``reaction_added`` / ``reaction_removed`` as Slack
sends them (docs.slack.dev reference/events/reaction_added), and the message's
``reactions`` kept as ``reactions.get`` would show them.

Event shape: ``{"type": "reaction_added", "user", "reaction", "item_user", "item":
{"type": "message", "channel", "ts"}, "event_ts"}``; a removal is the same with
``reaction_removed``. Custom workspace emoji arrive by their name like any other.
"""

from __future__ import annotations

import yaml  # type: ignore[import-untyped]

from tests.fakes.slack import FakeSlack
from tests.fakes.slack_wire import JSON, MANIFEST

EVENTS_SCOPE = "reactions:read"
"""Slack delivers reaction events only to an app subscribed to them with this scope."""


def subscribed(fake: FakeSlack, event_type: str) -> bool:
    """Whether the app (its manifest, the scopes the fake granted) gets ``event_type``."""
    manifest = yaml.safe_load(MANIFEST.read_text("utf-8"))
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    return event_type in events and EVENTS_SCOPE in fake.scopes


async def agent_reacts(
    fake: FakeSlack,
    ts: str,
    user: str,
    name: str,
    *,
    removed: bool = False,
    channel_id: str | None = None,
) -> None:
    """``user`` adds (or removes) reaction ``name`` on message ``ts`` of channel
    ``channel_id`` (default the fake's first); returns once the app acknowledged the event."""
    channel = fake.room(channel_id)
    if user not in channel.members:
        raise ValueError(f"{user} is not in the channel")
    message = fake.message(ts, channel.channel_id)
    reactions: list[JSON] = message.setdefault("reactions", [])
    entry = next((r for r in reactions if r["name"] == name), None)
    if removed:
        if entry is None or user not in entry["users"]:
            raise ValueError(f"{user} has no reaction {name} on {ts}")
        entry["users"].remove(user)
        if not entry["users"]:
            reactions.remove(entry)
    else:
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if user in entry["users"]:
            raise ValueError(f"{user} reacted {name} on {ts} already")
        entry["users"].append(user)
    if entry is not None:
        entry["count"] = len(entry["users"])
    event: JSON = {
        "type": "reaction_removed" if removed else "reaction_added",
        "user": user,
        "reaction": name,
        "item_user": message.get("user"),
        "item": {"type": "message", "channel": channel.channel_id, "ts": ts},
        "event_ts": fake.next_ts(channel.channel_id),
    }
    if not subscribed(fake, str(event["type"])):
        return
    delivery = fake._emit(channel, event)
    if delivery is not None:
        await delivery.wait(fake._patience())
