"""Per-channel pacing of ``chat.postMessage``: about one post per second per channel.

Slack's limit for posting is "one message per second per channel" with short bursts allowed
but not guaranteed, and slack_sdk does not pace at all. Every post first reserves the next
free slot of its channel and waits for it, so posts leave at the channel's rate instead of
running into 429 answers. A 429 that still happens (another app, a workspace-wide limit)
pushes the channel's next slot past ``Retry-After`` for every waiting post.

Waiting happens inside the job; a wait longer than ``max_wait`` raises
``PlatformError(retry_after=…)`` instead, so a long queue never holds workers or outlives
the job lease: the durable queue waits for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.errors import PlatformError

POST_INTERVAL_SECONDS = 1.0
"""Slack's documented rate for ``chat.postMessage`` in one channel."""

MAX_WAIT_SECONDS = 20.0
"""Longest wait inside a job; a third of the default job lease (60 s)."""


class ChannelPacer:
    """Hands out posting slots per channel, ``interval`` seconds apart (default
    ``POST_INTERVAL_SECONDS``, read when constructed)."""

    def __init__(
        self,
        interval: float | None = None,
        *,
        max_wait: float = MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = POST_INTERVAL_SECONDS if interval is None else interval
        self.max_wait = max_wait
        self._clock = clock
        self._next: dict[str, float] = {}
        self._held: dict[str, float] = {}
        self._granted: dict[str, list[float]] = {}

    def reserve(self, channel: str) -> float:
        """Take the channel's next slot; returns seconds to wait for it (0: post now).

        Raises ``PlatformError(retry_after=…)`` without taking a slot when the wait would
        exceed ``max_wait``.
        """
        now = self._clock()
        at = max(now, self._next.get(channel, now))
        wait = at - now
        if wait > self.max_wait:
            raise PlatformError(
                f"Slack channel busy: next posting slot in {wait:.1f}s",
                retryable=True,
                retry_after=wait,
                code="paced",
            )
        self._next[channel] = at + self.interval
        return wait

    async def slot(self, channel: str) -> bool:
        """Wait for the channel's next slot; True if that took a wait. A 429 that arrives
        while waiting voids the slot (it was handed out before Slack asked for the pause):
        queue again behind it."""
        waited = False
        while True:
            wait = self.reserve(channel)
            if wait > 0:
                waited = True
                await asyncio.sleep(wait)
            if self._clock() >= self._held.get(channel, 0.0):
                return waited

    async def ready(self, channel: str) -> bool:
        """Wait for a slot now and keep it for the post that follows shortly (the relay
        decides what goes into that post only once the slot is there); True if it waited."""
        waited = await self.slot(channel)
        self._granted.setdefault(channel, []).append(self._clock())
        return waited

    async def take(self, channel: str) -> None:
        """Use a slot kept by :meth:`ready` (if still fresh and no 429 came since), else
        wait for a new one."""
        granted = self._granted.get(channel, [])
        now = self._clock()
        while granted and now - granted[0] > self.interval:
            granted.pop(0)  # kept by a post that never happened
        if granted and now >= self._held.get(channel, 0.0):
            granted.pop(0)
            return
        await self.slot(channel)

    def hold(self, channel: str, seconds: float) -> None:
        """Slack answered 429: no post to this channel before ``seconds`` have passed."""
        until = self._clock() + max(seconds, 0.0)
        self._held[channel] = max(self._held.get(channel, 0.0), until)
        self._next[channel] = max(self._next.get(channel, 0.0), until)
