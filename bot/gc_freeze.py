"""Leave the objects built at start-up out of Python's full garbage collections.

A full collection (generation 2) walks every container object the process holds, and most
of them are the modules, classes, settings and adapters built at start-up, which live as
long as the process. In the relay benchmark (200 msgs/s into Matrix, issue 16) one full
collection about 40 s after start stopped the event loop for 38–45 ms, and every message
arriving meanwhile waited for it. Frozen once the bot has started (``gc.freeze``, meant for
exactly this), they are skipped by every later collection: the full collections in the same
run then took 0.3 ms.
"""

from __future__ import annotations

import gc


def freeze_start_up_objects() -> int:
    """Collect what start-up left as garbage first, then freeze everything else; returns
    how many objects were frozen. A frozen object is still freed when nothing refers to
    it any more, but never collected: one dropped later inside a reference cycle stays, so
    at most what start-up built, once.

    For a process that runs the bot and nothing else (``empfang run``): in a process that
    starts bots again and again (the test suite), each start would freeze whatever that
    process held at the time.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
