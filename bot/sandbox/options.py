"""Runtime knobs of the sandbox and its movable clock.

The ``[sandbox]`` config section is the starting point; ``POST /sandbox/config`` changes
knobs while it runs (tests switch duplication or limits on and off without a restart). Two
knobs exist only at runtime because they describe the simulated customer or an UNVERIFIED
detail rather than deployment: ``auto_read`` and ``retry_after_header``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from bot.clock import Clock, SystemClock
from bot.config import SandboxSection
from bot.sandbox.errors import DriverRequestError

RUNTIME_ONLY = ("auto_read", "retry_after_header")
FIXED_KEYS = frozenset({"host", "port", "api_version"})
"""Where the sandbox listens cannot change while it listens."""


class SandboxClock:
    """Real time plus an offset that ``advance`` grows: time keeps flowing, and can jump."""

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self.offset = 0.0

    def now(self) -> float:
        return self._base.now() + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise DriverRequestError("advance_seconds must not be negative: time only moves on")
        self.offset += seconds


class Options:
    """The current knobs: a validated ``SandboxSection`` plus the runtime-only flags."""

    def __init__(self, section: SandboxSection) -> None:
        self.section = section.model_copy(deep=True)
        self.auto_read = True
        self.retry_after_header = True

    def update(self, changes: Mapping[str, Any]) -> list[str]:
        """Apply changes atomically with the config's own validation; return changed keys."""
        unknown_fixed = sorted(FIXED_KEYS & changes.keys())
        if unknown_fixed:
            raise DriverRequestError(f"cannot change {', '.join(unknown_fixed)} while running")
        flags: dict[str, bool] = {}
        for key in RUNTIME_ONLY:
            if key in changes:
                value = changes[key]
                if not isinstance(value, bool):
                    raise DriverRequestError(f"{key}: must be true or false")
                flags[key] = value
        rest = {k: v for k, v in changes.items() if k not in RUNTIME_ONLY}
        try:
            section = SandboxSection.model_validate({**self.section.model_dump(), **rest})
        except ValidationError as exc:
            lines = [
                f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}"
                for err in exc.errors()
            ]
            raise DriverRequestError("; ".join(lines)) from exc
        self.section = section
        self.auto_read = flags.get("auto_read", self.auto_read)
        self.retry_after_header = flags.get("retry_after_header", self.retry_after_header)
        return sorted(changes)

    def view(self) -> dict[str, Any]:
        return {
            **self.section.model_dump(),
            "auto_read": self.auto_read,
            "retry_after_header": self.retry_after_header,
        }
