"""Running code under a chosen umask: file modes must not depend on the one the bot inherits."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

UMASKS = (0o022, 0o000)
"""The usual one, and the worst: without our own modes every file would be world-writable."""


@contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
