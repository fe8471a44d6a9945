"""The bot's power in a room, read from ``m.room.power_levels`` (spec defaults where silent).

``check-config --online`` reports it and the platform reads it at start: redacting others'
events (agents' replies, for retention and erasure) needs the room's ``redact`` level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MODERATOR = 50
"""The spec's default for ``redact`` (and other moderation levels)."""
CREATOR = 100


@dataclass(frozen=True)
class Power:
    level: int
    redact: int
    send: int

    @property
    def redacts_others(self) -> bool:
        return self.level >= self.redact


def power_of(user_id: str, levels: dict[str, Any] | None, creator: str | None = None) -> Power:
    """``user_id``'s power under ``levels``; without a power-levels event the room's creator
    has 100 and everyone else 0 (spec)."""
    if levels is None:
        return Power(CREATOR if creator == user_id else 0, MODERATOR, 0)
    users = levels.get("users") or {}
    events = levels.get("events") or {}
    return Power(
        level=int(users.get(user_id, levels.get("users_default", 0))),
        redact=int(levels.get("redact", MODERATOR)),
        send=int(events.get("m.room.message", levels.get("events_default", 0))),
    )
