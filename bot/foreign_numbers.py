"""Webhook changes for business numbers that are not configured here.

Meta sends the webhooks of every number subscribed to an app to the same URL, so a second
number added to the app (another team's, a test number) arrives here too. Storing it would
relay its customers into our threads and answer them from *our* number; refusing it with a
non-200 would make Meta redeliver it for days. Such changes are acknowledged, counted in
``/metrics`` (outcome ``not_ours``, without the number as a label: labels are fixed words)
and logged once per number, by the last digits of its id (the log filter would mask the
whole id like a phone number), never with content.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.domain import ForeignChange
from bot.metrics import Metrics

log = logging.getLogger("empfang.web")

SHOWN_DIGITS = 4
"""Enough of a ``phone_number_id`` to find it in Meta's dashboard, too few to be masked."""
MAX_REMEMBERED = 1000
"""Numbers already logged; beyond this many (not Meta) each further one is counted only."""


def shown(number_id: str) -> str:
    """The id as the log shows it: ``…2922``, or ``(none)`` for a change that named none."""
    return "…" + number_id[-SHOWN_DIGITS:] if number_id else "(none)"


class ForeignNumbers:
    """Counts changes for other business numbers and logs each number the first time."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._logged: set[str] = set()

    def note(self, changes: Iterable[ForeignChange]) -> None:
        for change in changes:
            self._metrics.count("messages", "not_ours", change.messages)
            self._metrics.count("statuses", "not_ours", change.statuses)
            if change.number_id in self._logged or len(self._logged) >= MAX_REMEMBERED:
                continue
            self._logged.add(change.number_id)
            log.warning(
                "webhook for business number id %s, which is not configured here: "
                "acknowledged and dropped (further ones are only counted, outcome not_ours)",
                shown(change.number_id),
            )
