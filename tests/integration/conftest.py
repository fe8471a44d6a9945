"""The bot taking webhooks and the sandbox as running servers, for tests that talk to them
through production code paths."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.app import Empfang
from bot.config import Settings
from bot.sandbox import SandboxServer


@pytest.fixture
async def bot(make_settings: Callable[..., Settings]) -> AsyncIterator[Empfang]:
    """The bot on the default settings, intake only (modules that need other limits
    define their own)."""
    app = Empfang(make_settings(), intake_only=True)
    await app.start()
    yield app
    await app.stop()


@pytest.fixture
async def sandbox(make_settings: Callable[..., Settings]) -> AsyncIterator[SandboxServer]:
    # No bot listens here: deliveries fail fast and are not retried.
    server = SandboxServer(make_settings(sandbox={"redelivery_seconds": []}), port=0)
    await server.start()
    yield server
    await server.stop()
