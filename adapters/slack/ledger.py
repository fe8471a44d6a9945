"""Which idempotency keys already have a post, so a retried job finds its earlier post.

Every post carries its key in message metadata (``blocks.metadata``). Asking Slack before
every post would cost a ``conversations.replies`` call per post (Tier 3, ~50/min), so the
ledger remembers keys per *scope* (a thread, or a channel's top level for roots) and asks
Slack only when its memory of that scope may be incomplete: the first post into the scope
since this process started, or after a call whose outcome is unknown (timeout, dropped
connection, 5xx). A thread the bot opened in this process starts complete.

Scopes and keys are per channel: a Slack ``ts`` is unique only within its channel, so two
channels may each hold a thread with the same ``ts``, and a post found in one channel is
no answer for a post into another.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from bot.ids import ChatMessageId

ROOTS = "\x00roots"
"""The thread part of a channel's top-level scope (thread roots)."""

Scope = tuple[str, str]
"""``(channel, thread ts or ROOTS)``."""


class PostLedger:
    def __init__(self, capacity: int = 50_000) -> None:
        self._capacity = capacity
        self._posts: OrderedDict[tuple[str, str], ChatMessageId] = OrderedDict()
        self._complete: set[Scope] = set()
        self._locks: dict[Scope, asyncio.Lock] = {}

    def get(self, channel: str, key: str) -> ChatMessageId | None:
        return self._posts.get((channel, key))

    def remember(self, channel: str, key: str, ts: ChatMessageId) -> None:
        self._posts[(channel, key)] = ts
        self._posts.move_to_end((channel, key))
        while len(self._posts) > self._capacity:
            self._posts.popitem(last=False)

    def is_complete(self, scope: Scope) -> bool:
        return scope in self._complete

    def mark_complete(self, scope: Scope) -> None:
        self._complete.add(scope)

    def mark_uncertain(self, scope: Scope) -> None:
        """A post into ``scope`` may have landed unseen: look before the next one."""
        self._complete.discard(scope)

    def lock(self, scope: Scope) -> asyncio.Lock:
        """Serialises the look-up of one scope so concurrent posts ask Slack once."""
        return self._locks.setdefault(scope, asyncio.Lock())
