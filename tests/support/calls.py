"""Counting the calls a piece of code makes: a measure of work that does not depend on how
busy the machine is, for tests that pin work taken off a hot path."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """The functions called on this thread inside the block, Python and built-in, by
    ``module.qualified_name`` (an event loop's callbacks and tasks included)."""
    seen: Counter[str] = Counter()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            code = frame.f_code
            seen[f"{frame.f_globals.get('__name__')}.{code.co_qualname}"] += 1
        elif event == "c_call":
            seen[f"{getattr(arg, '__module__', None) or 'builtins'}.{arg.__qualname__}"] += 1

    sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(None)


def calls(action: Callable[[], object]) -> Counter[str]:
    """The functions ``action`` called (:func:`counting`)."""
    with counting() as seen:
        action()
    return seen


def calls_into(found: Counter[str], module: str) -> int:
    """How many of ``found`` went to functions of ``module`` or its submodules."""
    return sum(n for name, n in found.items() if name == module or name.startswith(module + "."))
