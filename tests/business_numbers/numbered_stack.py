"""The demo's assembly on a real Synapse, serving the given business numbers in one room:
what the several-numbers tests of each provider start from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from bot.config.numbers import NumberEntry
from bot.demo.stack import RoomView, Stack, create_support_room, free_port, stack_settings
from bot.demo.synapse import LocalSynapse, MatrixAccount


@asynccontextmanager
async def numbered_stack(
    synapse: LocalSynapse, tmp_path: Path, numbers: Sequence[NumberEntry]
) -> AsyncIterator[tuple[Stack, RoomView, MatrixAccount]]:
    """The running stack, the agent's view of the room, and the bot's account (whose
    posts are the thread roots)."""
    room = await create_support_room(synapse)
    settings = stack_settings(tmp_path, room, bot_port=free_port())
    settings.numbers = list(numbers)
    stack = Stack(settings)
    await stack.start()
    try:
        yield stack, RoomView(synapse, room.agent, room.room_id), room.bot
    finally:
        await stack.stop()
