"""Prometheus metrics of one running bot. Labels are fixed words, never identities or numbers.

Each :class:`Metrics` has its own registry instead of prometheus_client's global one: tests
run many bots in one process, and the global registry refuses a second metric of a name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder

OutcomeFamily = Literal["webhooks", "messages", "statuses"]

JOB_STATES: Final = ("pending", "leased", "dead")
"""``pending``: waiting for its time or a worker; ``leased``: running; ``dead``: given up."""

_ACK_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_POST_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
"""Up to minutes: Slack's pacing delays posts by seconds, an unreachable platform by more."""

_OUTCOME_HELP: Final[dict[OutcomeFamily, tuple[str, tuple[str, ...]]]] = {
    "webhooks": (
        "Webhook deliveries by outcome: accepted, or refused_<HTTP status>.",
        ("accepted",),
    ),
    "messages": (
        "Customer messages in accepted webhooks: new, duplicate (stored before), or not_ours"
        " (for a business number not configured here; dropped).",
        ("new", "duplicate", "not_ours"),
    ),
    "statuses": (
        "Delivery status updates in accepted webhooks: new, or not_ours (dropped).",
        ("new", "not_ours"),
    ),
}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self._outcomes = {
            family: Counter(f"empfang_{family}", text, ["outcome"], registry=self.registry)
            for family, (text, _) in _OUTCOME_HELP.items()
        }
        self._children: dict[tuple[OutcomeFamily, str], Counter] = {}
        for family, (_, outcomes) in _OUTCOME_HELP.items():
            for outcome in outcomes:  # present from the start, so rate() sees the first one
                self._child(family, outcome)
        self._jobs = Gauge(
            "empfang_jobs",
            "Jobs in the queue by state: pending, leased (a worker runs it), dead (given up).",
            ["state"],
            registry=self.registry,
        )
        self.webhook_ack_seconds = Histogram(
            "empfang_webhook_ack_seconds",
            "From reading an accepted webhook request to its answer (signature, parse, commit).",
            buckets=_ACK_BUCKETS,
            registry=self.registry,
        )
        self.chat_post_seconds = Histogram(
            "empfang_webhook_to_chat_post_seconds",
            "From storing a customer message to the chat platform confirming its post.",
            buckets=_POST_BUCKETS,
            registry=self.registry,
        )

    def _child(self, family: OutcomeFamily, outcome: str) -> Counter:
        """The labelled counter, kept: ``labels()`` locks and looks up on every call."""
        child = self._children.get((family, outcome))
        if child is None:
            child = self._children[(family, outcome)] = self._outcomes[family].labels(outcome)
        return child

    def count(self, family: OutcomeFamily, outcome: str, by: int = 1) -> None:
        """Called per webhook on the intake's hot path, hence the kept children."""
        if by:
            self._child(family, outcome).inc(by)

    def set_jobs(self, counts: Mapping[str, int]) -> None:
        """Every state gets a value, 0 included: a state that empties must not keep its last."""
        for state in JOB_STATES:
            self._jobs.labels(state).set(counts.get(state, 0))

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The exposition in the format the scraper accepts (``Accept``), and its content type."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type
