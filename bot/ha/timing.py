"""The leader lease's durations, derived from the one setting an admin thinks in:
``[ha] takeover_seconds``, the longest a reception may be without a leader.

With ``h`` = takeover / 5 (the heartbeat)::

    leader renews every h ──► database expiry = renewal + 3h
    leader steps down if no renewal succeeded for 2h   (h before the database expiry)
    followers try every h ──► a dead leader is replaced after at most 3h + h = 4h

so a takeover needs at most four fifths of ``takeover_seconds``; the last fifth is slack
for connecting and the statement itself. The leader's step-down precedes the database
expiry by a whole heartbeat: it measures from *before* it sent the renewal that succeeded,
the database from when it ran it, and both count durations only, so no two clocks need
to agree (the expiry is the database's ``now()``, the step-down the leader's monotonic
clock).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_TAKEOVER_SECONDS = 3.0
"""Below this the heartbeat (0.6 s) approaches a busy database's statement latency."""


@dataclass(frozen=True)
class LeaseTiming:
    takeover_seconds: float

    @property
    def heartbeat(self) -> float:
        """How often the leader renews and a follower tries to take over."""
        return self.takeover_seconds / 5

    @property
    def expiry(self) -> float:
        """How long the database keeps a lease after its last renewal."""
        return 3 * self.heartbeat

    @property
    def step_down_after(self) -> float:
        """How long the leader trusts a renewal: a heartbeat less than :attr:`expiry`."""
        return self.expiry - self.heartbeat

    @property
    def statement_timeout(self) -> float:
        """One round trip (connect, renew, acquire) may take this long before it counts as
        failed; half a heartbeat leaves the leader several renewals before it steps down."""
        return self.heartbeat / 2

    @property
    def retry_after_failure(self) -> float:
        """A leader whose renewal failed tries again this soon, not a heartbeat later."""
        return self.heartbeat / 4
