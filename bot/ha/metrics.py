"""``/metrics`` for replicas: which one leads, and whether each reaches the database.

Read at scrape time from the lease itself (a collector, not gauges set on every change),
so the exposition can never lag behind the lease. The ``replica`` label is the configured
replica name (``[ha] replica``, the host name by default): it names a machine, never a
person.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.ha.leader import LeaderLease


def _per_replica(name: str, text: str, replica: str, value: bool) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, text, labels=["replica"])
    gauge.add_metric([replica], 1.0 if value else 0.0)
    return gauge


class LeaseCollector(Collector):
    def __init__(self, lease: LeaderLease) -> None:
        self._lease = lease

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lease = self._lease
        yield _per_replica(
            "empfang_ha_leader",
            "1 on the replica holding the leader lease (chat connection, singletons), else 0.",
            lease.replica,
            lease.is_leader,
        )
        yield _per_replica(
            "empfang_ha_database_reachable",
            "1 if the database answered this replica within the lease expiry, else 0.",
            lease.replica,
            lease.reachable,
        )


def register_lease_metrics(registry: CollectorRegistry, lease: LeaderLease) -> None:
    """Expose ``lease`` in ``registry`` (``bot.metrics.Metrics.registry``)."""
    registry.register(LeaseCollector(lease))
