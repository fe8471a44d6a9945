"""``[ha]``: several replicas on one PostgreSQL (``[store] url = "postgresql://…"``).

One setting decides the timing: ``takeover_seconds``, the longest the reception may be
without a leader after the leader's machine dies. The heartbeat and the lease's expiry are
derived from it (``bot.ha.timing``), so they cannot be set to values that contradict each
other. With SQLite the section is read but unused: one process needs no election.
"""

from __future__ import annotations

import re
import socket

from pydantic import Field, field_validator

from bot.config.base import Section
from bot.ha.timing import MIN_TAKEOVER_SECONDS, LeaseTiming

_REPLICA = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


class HaSection(Section):
    takeover_seconds: float = 15.0
    """When the leader dies, another replica leads within this many seconds (≥ 3); the
    heartbeat is a fifth of it."""
    replica: str = Field(default="")
    """This replica's name in ``/metrics`` and log lines; empty: the host name (a
    container's id in Docker). Names a machine, never a person."""

    @field_validator("takeover_seconds")
    @classmethod
    def _takeover_long_enough(cls, value: float) -> float:
        if value < MIN_TAKEOVER_SECONDS:
            raise ValueError(
                f"must be at least {MIN_TAKEOVER_SECONDS:g}: the heartbeat is a fifth of it"
                " and must stay well above a statement's round trip"
            )
        return value

    @field_validator("replica")
    @classmethod
    def _replica_is_a_name(cls, value: str) -> str:
        if value and not _REPLICA.match(value):
            raise ValueError(
                "letters, digits, '.', '_' and '-' only, at most 63, e.g. \"empfang-1\""
            )
        return value

    @property
    def timing(self) -> LeaseTiming:
        return LeaseTiming(self.takeover_seconds)

    def replica_name(self) -> str:
        """``replica``, or the host name when it is empty."""
        return self.replica or socket.gethostname()
