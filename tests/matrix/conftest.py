"""Fixtures for the Matrix adapter: a room with an agent and the bot, and started platforms.

The homeserver fixtures (``synapse``, ``private_synapse``, ``new_matrix_user``) come from
``tests.support.synapse_fixture``, loaded by the suite's root conftest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio

from adapters.matrix import MatrixPlatform
from bot.config import MatrixSection
from bot.demo.synapse import LocalSynapse, MatrixAccount
from tests.matrix.helpers import Inbox, RoomReader, section
from tests.support.synapse_fixture import NewMatrixUser


@dataclass
class Team:
    """An agent who created the support room and invited the bot (who has not joined yet)."""

    hs: LocalSynapse
    agent: MatrixAccount
    bot: MatrixAccount
    room_id: str
    reader: RoomReader
    store: Path

    def section(self, **extra: Any) -> MatrixSection:
        return section(self.hs, self.bot, self.room_id, self.store, **extra)

    async def say(self, content: dict[str, object] | str) -> str:
        """The agent sends a message (plain text or full content); returns its event id."""
        body = {"msgtype": "m.text", "body": content} if isinstance(content, str) else content
        return await self.hs.send_message(self.agent, self.room_id, body)


StartPlatform = Callable[..., Awaitable[tuple[MatrixPlatform, Inbox]]]


@pytest_asyncio.fixture(loop_scope="session")
async def team(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> AsyncIterator[Team]:
    agent = await new_matrix_user("agent")
    bot = await new_matrix_user("empfang")
    room_id = await synapse.create_room(agent, name="Support", invite=[bot.user_id])
    reader = RoomReader(synapse, agent, room_id)
    yield Team(synapse, agent, bot, room_id, reader, tmp_path / "matrix-store")
    await reader.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def start_platform() -> AsyncIterator[StartPlatform]:
    """Start a ``MatrixPlatform`` with an inbox; every one started is stopped afterwards."""
    started: list[MatrixPlatform] = []

    async def start(
        config: MatrixSection,
        *,
        bot_started_at: float | None = None,
        timeline_limit: int | None = None,
    ) -> tuple[MatrixPlatform, Inbox]:
        platform = MatrixPlatform(config, bot_started_at=bot_started_at)
        if timeline_limit is not None:
            platform.timeline_limit = timeline_limit
        inbox = Inbox()
        await platform.start(inbox)
        started.append(platform)
        return platform, inbox

    yield start
    for platform in started:
        await platform.stop()
