"""Several replicas on one PostgreSQL (issue 14): who leads, and how replicas wake each other.

- ``bot.ha.timing``: the lease's durations, all derived from ``[ha] takeover_seconds``;
- ``bot.ha.leader``: the leader lease (one replica holds the chat connection and the
  singletons) and ``leading()``, which cancels the leader's work the moment the lease is lost;
- ``bot.ha.notify``: ``LISTEN/NOTIFY`` wake-ups between replicas, and the ``notify()`` a
  committing transaction issues;
- ``bot.ha.metrics``: the ``empfang_ha_*`` gauges for ``/metrics``;
- ``bot.ha.replica``: the three assembled from ``[ha]``, as ``empfang run`` is to use them;
- ``bot.ha.connection``: how their dedicated connections are made and given up.

SQLite installations have one process and use none of this.

asyncpg ships no type information: the connections these modules hold are typed ``Any``
at the boundary, as in ``bot.store.postgres_backend``.
"""
