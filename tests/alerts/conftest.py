"""Fixtures of the on-call tests: a local receiver for pages (PagerDuty Events API v2)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.alerts.desk import PagingReceiver


@pytest.fixture
async def pager() -> AsyncIterator[PagingReceiver]:
    receiver = PagingReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()
