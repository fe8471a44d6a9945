"""Group commit: requests that arrive while a commit is running share the next one.

Under load many webhooks wait for the store at once; committing them together costs one
transaction (and one fsync) instead of one each, and every caller still gets its answer only
after its data is committed. With no load a request is committed alone, at once: there is no
timer and so no added latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommitter(Generic[T, R]):
    def __init__(
        self,
        commit_many: Callable[[list[T]], Awaitable[list[R]]],
        commit_one: Callable[[T], Awaitable[R]],
        *,
        max_group: int = 256,
    ) -> None:
        self._commit_many = commit_many
        self._commit_one = commit_one
        self._max_group = max_group
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Resolves once ``item`` is committed; raises what committing it alone raised.

        A caller cancelled while waiting (its client went away) only cancels its own future:
        the item is still committed with its group.
        """
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._running is None:
            self._running = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                group = self._waiting[: self._max_group]
                del self._waiting[: self._max_group]
                await self._commit(group)
        finally:
            self._running = None

    async def _commit(self, group: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._commit_many([item for item, _ in group])
        except Exception:
            # One bad item must not fail the others: commit each on its own instead.
            for item, future in group:
                try:
                    result = await self._commit_one(item)
                except Exception as error:
                    _settle(future, error)
                else:
                    _settle(future, result)
            return
        for (_, future), result in zip(group, results, strict=True):
            _settle(future, result)


def _settle(future: asyncio.Future[R], outcome: R | Exception) -> None:
    """Hand the caller its outcome, unless it was cancelled meanwhile (nobody waits then)."""
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
