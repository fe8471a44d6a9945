"""Copies the SQLite WAL back into the database file off the commit path.

SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages:
that commit writes hundreds of pages into the database file and syncs it while the store's
lock is held, and every webhook waiting for the next commit group waits too (5–25 ms, the
p99.9 of the ack latency; ``bench/wal_stalls.py``). Here a connection and a thread of their
own do that work with ``PASSIVE`` checkpoints, which never block the writer: commits append
to the WAL while earlier frames are copied.

A PASSIVE checkpoint copies the frames committed before it began and syncs the database
file only if no commit came in meanwhile; it cannot let the WAL start over from its
beginning while commits keep coming. So under steady traffic the writer's own automatic
checkpoint, raised to :data:`BACKSTOP_PAGES`, is what restarts the WAL: when it fires, this
thread has already copied all but the last :data:`PAUSE_SECONDS` of commits, and the COMMIT
copies only those and syncs the file (a few pages and one sync instead of hundreds of
pages, and 1 in BACKSTOP_PAGES frames instead of 1 in 1,000). After the last commit of a
burst, the next pass copies everything and the next write starts the WAL over.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("empfang.store")

BACKSTOP_PAGES = 4_000
"""``wal_autocheckpoint`` of the writing connection (SQLite's default: 1,000): a commit
checkpoints by itself only once the WAL holds this many frames (16 MiB with 4 KiB pages),
which is also how large the WAL file grows under steady traffic (it is reused, not
truncated)."""

PAUSE_SECONDS = 0.05
"""After the first commit since the last pass, wait this long so that one pass copies the
commits of a whole pause, not one pass per commit."""


class WalCheckpointer:
    """A thread that checkpoints ``path``'s WAL after :meth:`written` told it of commits."""

    def __init__(self, path: Path, *, synchronous: str, pause: float = PAUSE_SECONDS) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # A checkpoint syncs the database file before it lets the WAL be reused; with
        # synchronous = off it would not, and a power loss could lose committed data.
        self._conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        self._pause = pause
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._failing = False
        self.passes = 0
        """Checkpoints run so far (tests count them; there is no other way to tell)."""
        self._thread = threading.Thread(target=self._serve, name="empfang-checkpoint", daemon=True)
        self._thread.start()

    def written(self) -> None:
        """Something may have been committed: copy it back soon. Cheap: only the first
        commit after a pass sets the event (``Event.set`` takes a lock and notifies; the
        store calls this after every commit that changed rows, four per relayed message).
        An event found set is cleared only right before a pass, which then copies this
        commit too."""
        if not self._wanted.is_set():
            self._wanted.set()

    def stop(self) -> None:
        """End the thread (after its current pass) and close its connection."""
        self._stopping.set()
        self._wanted.set()
        self._thread.join()
        self._conn.close()

    def _serve(self) -> None:
        # Checked after every clear: a stop between the pause and the clear below sets
        # ``_wanted`` too, and the clear would erase that wake-up (the thread would then
        # sleep for good and ``stop()`` join it for good). ``_stopping`` stays set.
        while not self._stopping.is_set():
            self._wanted.wait()
            if self._stopping.wait(self._pause):
                return
            self._wanted.clear()
            try:
                self._pass()
            except sqlite3.Error as exc:
                # The commit path's own checkpoint (BACKSTOP_PAGES) still bounds the WAL.
                if not self._failing:
                    log.warning("WAL checkpoint failed (%s); retrying after the next commit", exc)
                self._failing = True
            else:
                self._failing = False

    def _pass(self) -> None:
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.passes += 1
