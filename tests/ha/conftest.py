"""Each test here gets a database of its own on the suite's PostgreSQL cluster
(``tests.support.postgres``): the lease table and notification channels of one test cannot
disturb another's."""

from __future__ import annotations

import pytest

from tests.support.postgres import PostgresCluster


@pytest.fixture
def db(postgres: PostgresCluster) -> str:
    """The URL of a fresh database."""
    return postgres.new_database()
