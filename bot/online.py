"""The one shape of ``empfang check-config --online``: what each service said, by config key.

Offline checks see only the shape of a value; whether Meta accepts the token or the bot sits
in the right room only the service itself can say. Each platform has one check function
(``adapters/whatsapp/online.py``, ``adapters/slack/online.py``, ``adapters/matrix/online.py``)
that fills an :class:`OnlineReport`; the CLI composes them and exits 2 on any problem.

Warnings are kept apart from problems because some findings are worth knowing without making
the setup wrong (a room whose history is world-readable, a power level too low for the
retention purge): the admin decides, the exit code stays 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class OnlineReport:
    """Lines of the form ``<toml key>: <what was found>``, sorted by how much they matter."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    def problem(self, key: str, text: str) -> None:
        """The configuration does not work; ``check-config`` exits 2."""
        self.problems.append(f"{key}: {text}")

    def warning(self, key: str, text: str) -> None:
        """Works, but the admin should look (or a check had to be skipped)."""
        self.warnings.append(f"{key}: {text}")

    def fact(self, key: str, text: str) -> None:
        """What the service confirmed, so the admin sees it checked the right thing."""
        self.facts.append(f"{key}: {text}")

    def extend(self, other: OnlineReport) -> None:
        self.problems += other.problems
        self.warnings += other.warnings
        self.facts += other.facts
