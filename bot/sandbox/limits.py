"""Throughput and pair rate limits, as token buckets on the sandbox clock.

A token bucket matches how Meta describes both limits: throughput is "N messages per
second" (capacity N, refilled at N/s), and the pair limit allows a burst that "borrows from
future quota" (capacity ``pair_limit_burst``, one token back every ``pair_limit_seconds``).
Running on the sandbox clock means ``POST /sandbox/clock`` also refills the buckets, so tests
can step past a limit without sleeping. A refused request consumes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import SandboxSection
from bot.sandbox.errors import GraphError
from bot.sandbox.graph import pair_limit_exceeded, throughput_exceeded


@dataclass
class TokenBucket:
    """``capacity`` tokens, ``rate`` tokens back per second (``rate`` 0 = never refills)."""

    capacity: float
    rate: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now

    def wait_for_one(self) -> float | None:
        """Seconds until one token is available; None if it never will."""
        if self.tokens >= 1:
            return 0.0
        if self.rate <= 0:
            return None
        return (1 - self.tokens) / self.rate


class Throttle:
    """Both limits for one business number; rebuilt whenever the options change."""

    def __init__(self, clock: Clock, options: SandboxSection) -> None:
        self._clock = clock
        self._options = options
        now = clock.now()
        rate = options.rate_limit_per_second
        capacity = max(1.0, rate)
        self._throughput = TokenBucket(capacity, rate, capacity, now)
        self._pairs: dict[str, TokenBucket] = {}

    def _pair(self, wa_id: str, now: float) -> TokenBucket | None:
        period = self._options.pair_limit_seconds
        if period <= 0:  # 0 means the pair limit is off
            return None
        bucket = self._pairs.get(wa_id)
        if bucket is None:
            burst = float(self._options.pair_limit_burst)
            bucket = self._pairs[wa_id] = TokenBucket(burst, 1.0 / period, burst, now)
        return bucket

    def acquire(self, wa_id: str, *, retry_after_header: bool) -> None:
        """Take one send slot for ``wa_id`` or raise the 429 Graph error Meta would send."""
        now = self._clock.now()
        self._throughput.refill(now)
        pair = self._pair(wa_id, now)
        if pair is not None:
            pair.refill(now)
        if self._throughput.tokens < 1:
            wait = self._throughput.wait_for_one()
            raise with_retry_after_header(throughput_exceeded(wait), retry_after_header)
        if pair is not None and pair.tokens < 1:
            raise with_retry_after_header(
                pair_limit_exceeded(pair.wait_for_one()), retry_after_header
            )
        self._throughput.tokens -= 1
        if pair is not None:
            pair.tokens -= 1


def with_retry_after_header(error: GraphError, enabled: bool) -> GraphError:
    """``Retry-After`` is UNVERIFIED for the real API, so it can be switched off."""
    if not enabled:
        error.headers.pop("Retry-After", None)
    return error
