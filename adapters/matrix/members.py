"""Who is in a room and under which name, from the ``m.room.member`` events a sync carries.

The relay needs two facts about an event's sender: the name to show (the display name,
disambiguated with the user id when two members share it, as the spec's display-name rules
say and Element shows) and whether the sender is a joined member (an invited or departed
user's message is not an agent's). A process's first sync asks for the full state, so the
room's members are all known from it; later syncs carry the changes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

MEMBER_EVENT = "m.room.member"


class RoomMembers:
    """Joined and invited members of one room with their display names."""

    def __init__(self) -> None:
        self._membership: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._name_count: Counter[str] = Counter()

    def update(self, events: list[Any]) -> None:
        """Apply the member events among ``events`` (state or timeline, oldest first)."""
        for event in events:
            if event.get("type") != MEMBER_EVENT:
                continue
            user_id = event.get("state_key")
            content = event.get("content")
            if not isinstance(user_id, str) or not isinstance(content, dict):
                continue
            self._forget(user_id)
            membership = content.get("membership")
            if membership not in ("join", "invite"):
                continue
            self._membership[user_id] = membership
            name = content.get("displayname")
            if isinstance(name, str) and name:
                self._names[user_id] = name
                self._name_count[name] += 1

    def _forget(self, user_id: str) -> None:
        self._membership.pop(user_id, None)
        name = self._names.pop(user_id, None)
        if name is not None:
            self._name_count[name] -= 1

    def is_joined(self, user_id: str) -> bool:
        return self._membership.get(user_id) == "join"

    def display_name(self, user_id: str) -> str:
        """The member's display name, ``name (user id)`` when another member shares it;
        the user id when there is none."""
        name = self._names.get(user_id)
        if name is None:
            return user_id
        return f"{name} ({user_id})" if self._name_count[name] > 1 else name
