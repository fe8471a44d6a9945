"""Which idempotency keys already have a post, so a retried job finds its earlier post.

Every post carries its key in message metadata (``blocks.metadata``). Asking Slack before
every post would cost a ``conversations.replies`` call per post (Tier 3, ~50/min), so the
ledger remembers keys per *scope* (a thread, or the channel for roots) and asks Slack only
when its memory of that scope may be incomplete: the first post into the scope since this
process started, or after a call whose outcome is unknown (timeout, dropped connection,
5xx). A thread the bot opened in this process starts complete.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from bot.ids import ChatMessageId

ROOTS = "\x00roots"
"""The scope of thread roots (top-level posts in the channel)."""


class PostLedger:
    def __init__(self, capacity: int = 50_000) -> None:
        self._capacity = capacity
        self._posts: OrderedDict[str, ChatMessageId] = OrderedDict()
        self._complete: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    def get(self, key: str) -> ChatMessageId | None:
        return self._posts.get(key)

    def remember(self, key: str, ts: ChatMessageId) -> None:
        self._posts[key] = ts
        self._posts.move_to_end(key)
        while len(self._posts) > self._capacity:
            self._posts.popitem(last=False)

    def is_complete(self, scope: str) -> bool:
        return scope in self._complete

    def mark_complete(self, scope: str) -> None:
        self._complete.add(scope)

    def mark_uncertain(self, scope: str) -> None:
        """A post into ``scope`` may have landed unseen: look before the next one."""
        self._complete.discard(scope)

    def lock(self, scope: str) -> asyncio.Lock:
        """Serialises the look-up of one scope so concurrent posts ask Slack once."""
        return self._locks.setdefault(scope, asyncio.Lock())
