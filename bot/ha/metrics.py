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


class LeaseCollector(Collector):
    def __init__(self, lease: LeaderLease) -> None:
        self._lease = lease

    def collect(self) -> Iterator[GaugeMetricFamily]:
        replica = [self._lease.replica]
        leader = GaugeMetricFamily(
            "empfang_ha_leader",
            "1 on the replica holding the leader lease (chat connection, singletons), else 0.",
            labels=["replica"],
        )
        leader.add_metric(replica, 1.0 if self._lease.is_leader else 0.0)
        yield leader
        reachable = GaugeMetricFamily(
            "empfang_ha_database_reachable",
            "1 if the database answered this replica within the lease expiry, else 0.",
            labels=["replica"],
        )
        reachable.add_metric(replica, 1.0 if self._lease.reachable else 0.0)
        yield reachable


def register_lease_metrics(registry: CollectorRegistry, lease: LeaderLease) -> None:
    """Expose ``lease`` in ``registry`` (``bot.metrics.Metrics.registry``)."""
    registry.register(LeaseCollector(lease))
