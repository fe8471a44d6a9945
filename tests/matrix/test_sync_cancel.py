"""Stopping the sync loop: a cancel that arrives just as a /sync answers must not be lost.

On Python 3.11 ``asyncio.wait_for`` returned the finished sync's result instead of raising
the cancel; the loop then long-polled again and ``MatrixPlatform.stop`` waited forever (seen
as a hung e2e teardown).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest

from adapters.matrix import events
from adapters.matrix.api import MatrixApi
from adapters.matrix.state import FilePosition, StateFile
from adapters.matrix.sync import SyncLoop


class AnsweringClient:
    """Stands in for the client: each ``sync`` waits until the test answers it."""

    user_id = "@bot:localhost"

    def __init__(self) -> None:
        self.pending: asyncio.Future[dict[str, Any]] | None = None

    async def sync(self, **_: Any) -> dict[str, Any]:
        self.pending = asyncio.get_running_loop().create_future()
        return await self.pending


async def ignore(*_: Any) -> None:
    return None


@pytest.mark.parametrize("steps", [0, 1, 2, 3])
async def test_an_accepted_cancel_is_never_lost(tmp_path: Path, steps: int) -> None:
    """Cancel 0..3 loop steps after the homeserver answered: whenever ``cancel()`` is
    accepted (the sync has not returned yet), the sync must end cancelled."""
    client = AnsweringClient()
    loop = SyncLoop(
        cast(MatrixApi, client),
        rooms={"!room:localhost": "!room:localhost"},
        position=FilePosition(StateFile(tmp_path)),
        since="",
        on_event=ignore,
        bot_users=frozenset(),
        cutoff_ms=0,
        timeline_limit=10,
        threads=events.ThreadIndex(),
    )
    task = asyncio.create_task(loop._sync(since="s1", first=False))
    await asyncio.sleep(0)  # the task's first step sends the /sync
    assert client.pending is not None
    client.pending.set_result({"next_batch": "s2"})
    for _ in range(steps):
        await asyncio.sleep(0)
    if task.cancel():
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 1)
    else:  # it had already finished, with the answer
        assert task.done() and task.result() == {"next_batch": "s2"}
