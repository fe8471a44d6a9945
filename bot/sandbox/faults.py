"""Graph outages on demand: the sandbox answers sends with 500, 503 or 429 for a while.

Meta has bad minutes too: 131000 "Something went wrong" (500), 131016 "Service unavailable"
(503), and 130429 throughput limits (429). An outage makes every ``POST
/{phone_number_id}/messages`` answer one of the chosen statuses, in the given order over and
over, until it ends on the sandbox clock (``POST /sandbox/clock`` can end it early). A refused
send is not accepted: nothing reaches the customer and no status webhook follows, so a bot
that retries correctly delivers each message exactly once. (Real Graph may rarely accept a
message and still time out; the sandbox does not play that, since no client can dedupe it.)

A 429 carries ``Retry-After`` with the seconds left in the outage, rounded up, the way the
sandbox's throughput limit names the time until the next free slot (UNVERIFIED for the real
API; ``retry_after_header = false`` drops it, as for the limits).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.sandbox.errors import DriverRequestError, GraphError
from bot.sandbox.graph import service_unavailable, something_went_wrong, throughput_exceeded
from bot.sandbox.limits import with_retry_after_header
from bot.sandbox.payloads import JSON

OUTAGE_STATUSES: dict[int, Callable[[float], GraphError]] = {
    500: lambda _left: something_went_wrong(),
    503: lambda _left: service_unavailable(),
    429: throughput_exceeded,
}


@dataclass
class Outage:
    statuses: tuple[int, ...]
    until: float
    refused: int = 0


class Faults:
    """The current outage, if any, and how many sends it refused."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._outage: Outage | None = None

    def start_outage(self, statuses: Sequence[int], seconds: float) -> JSON:
        """Refuse sends with ``statuses`` (cycled) for ``seconds``; 0 seconds ends an outage."""
        if not 0 <= seconds < math.inf:
            raise DriverRequestError("seconds: must be 0 (end the outage) or more")
        chosen = tuple(statuses)
        unknown = [s for s in chosen if s not in OUTAGE_STATUSES]
        if not chosen or unknown:
            known = ", ".join(str(s) for s in OUTAGE_STATUSES)
            raise DriverRequestError(f"statuses: a non-empty list of {known}")
        self._outage = Outage(chosen, self._clock.now() + seconds) if seconds else None
        return self.view()

    def check(self, *, retry_after_header: bool) -> None:
        """Raise the next outage answer while an outage lasts."""
        outage = self._outage
        if outage is None:
            return
        left = outage.until - self._clock.now()
        if left <= 0:
            return
        status = outage.statuses[outage.refused % len(outage.statuses)]
        outage.refused += 1
        raise with_retry_after_header(OUTAGE_STATUSES[status](math.ceil(left)), retry_after_header)

    def view(self) -> JSON:
        outage = self._outage
        if outage is None:
            return {"outage": None}
        return {
            "outage": {
                "statuses": list(outage.statuses),
                "seconds_left": max(0.0, outage.until - self._clock.now()),
                "refused": outage.refused,
            }
        }
