"""One thread for the store's synchronous hot-path work (:meth:`bot.store.Store.run_sync`)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

from bot.errors import StoreError

T = TypeVar("T")

_Item = tuple[asyncio.Future[Any], Callable[[], Any]]


def settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Hand a waiting coroutine what work on another thread gave, unless it stopped
    waiting (called on the event loop through ``call_soon_threadsafe``)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _nothing() -> None:
    return None


class SyncThread:
    """Runs callables one after another on a thread of its own and hands results back.

    Not ``loop.run_in_executor``: its ``concurrent.futures`` machinery cost about 17 µs of
    CPU more per hand-off than this queue plus one ``call_soon_threadsafe`` (as cheap as
    aiosqlite's own queue), and the intake makes a hand-off per commit group.
    """

    def __init__(self, name: str) -> None:
        self._queue: SimpleQueue[_Item | None] = SimpleQueue()
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            future, work = item
            result, error = None, None
            try:
                result = work()
            except BaseException as exc:  # handed to the awaiting coroutine
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: no one waits
                future.get_loop().call_soon_threadsafe(settle, future, result, error)

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` on the thread. A cancelled caller still returns only once ``work`` has
        finished: the thread cannot be stopped, and the caller's locks must cover it."""
        if self._stopped:
            # Queued behind the stop, the work would never run and its caller never hear:
            # a webhook arriving at a closed store hung instead of getting its 503.
            raise StoreError("the store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put((future, work))
        try:
            return await future
        except asyncio.CancelledError:
            if future.cancelled():
                await self._queued_work_done()
            raise

    async def _queued_work_done(self) -> None:
        """Returns once all work queued so far has run: the thread takes it in order.

        Only on cancellation: the usual path pays for no second future (``asyncio.shield``).
        """
        marker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put((marker, _nothing))
        while not marker.done():
            with contextlib.suppress(asyncio.CancelledError):  # cancelled already; wait it out
                await asyncio.shield(marker)

    def stop(self) -> None:
        """Let the thread end after the work already queued; later work is refused."""
        self._stopped = True
        self._queue.put(None)
