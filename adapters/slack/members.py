"""Who is in each support channel, so the adapter can report ``author_is_member``.

Slack delivers a button press from anyone who can see the message, and in a public channel
that is every user of the workspace, joined or not. Only ``conversations.members`` (a paged
list) says who joined. A member found is cached per channel for ``ttl`` seconds (with
every other member on the pages read); a non-member is asked about again each time, so
someone who just joined is not refused from a stale cache. Membership of one channel says
nothing about another: each number's team may be a different set of people.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import errors

PAGE_SIZE = 1000
"""Slack's maximum for ``conversations.members``."""


class ChannelMembers:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._until: dict[tuple[str, str], float] = {}

    async def contains(self, channel: str, user_id: str) -> bool:
        """Whether ``user_id`` is in ``channel``. Raises ``PlatformError`` when Slack cannot
        say (the event is then not acked and comes again), rather than guessing either way."""
        if self._until.get((channel, user_id), 0.0) > self._clock():
            return True
        cursor: str | None = None
        while True:
            with errors.translated("conversations.members"):
                page = await self._client.conversations_members(
                    channel=channel, limit=PAGE_SIZE, cursor=cursor
                )
            members = [str(member) for member in page.get("members") or []]
            until = self._clock() + self._ttl
            self._until.update(((channel, member), until) for member in members)
            if user_id in members:
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return False
