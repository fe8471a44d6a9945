"""Waiting for a condition in tests without fixed sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def eventually(condition: Callable[[], bool], within: float, what: str) -> float:
    """Poll ``condition`` until true; the seconds it took. Fails the test after ``within``."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not condition():
        if loop.time() - start > within:
            raise AssertionError(f"not within {within}s: {what}")
        await asyncio.sleep(0.01)
    return loop.time() - start
