"""The sandbox as a running server, for tests that talk to it through production adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.config import Settings
from bot.sandbox import SandboxServer


@pytest.fixture
async def sandbox(make_settings: Callable[..., Settings]) -> AsyncIterator[SandboxServer]:
    # No bot listens here: deliveries fail fast and are not retried.
    server = SandboxServer(make_settings(sandbox={"redelivery_seconds": []}), port=0)
    await server.start()
    yield server
    await server.stop()
