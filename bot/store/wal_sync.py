"""The intake's WAL sync on a thread of its own (SQLite, ``synchronous = full``).

A webhook is answered only once its messages are on disk. Committed at FULL on the store's
thread, every intake write held that thread in ``fdatasync`` for 0.4–1 ms (more when the
host is busy), and the relay's leases, take-ins and post records queued behind it: at
200 msgs/s on a busy host that put ~1.4 ms on the median and ~7 ms on the p99 of webhook →
chat post, and with a busy disk the relay fell behind (``bench/README.md``). So the
intake commits at NORMAL (the WAL written, not synced) and waits here for the sync, while
the store's thread goes on; writes made during a sync share the next.

Two rules keep "acknowledged means on disk" and "nothing posted that a power loss could
take back" true:

- the intake answers only after :meth:`WalSyncer.synced` returns for its write;
- a job runs only after every intake write before its lease is on disk
  (``Store.intake_on_disk``, asked by ``bot.jobs.WorkerPool``): a message posted to the
  chat and then lost with the power would come again from Meta under a new id and be
  posted twice.

A power loss takes a suffix of the WAL (its frames are checksummed in a chain), so the
commits after an unsynced intake write, the relay's included, go with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path

from bot.errors import StoreError
from bot.store.sync_thread import settle


def sync_file(path: Path) -> None:
    """``path``'s data on disk, through a descriptor of our own: ``fdatasync`` syncs the
    file, whichever descriptor names it, and SQLite offers no sync without a commit that
    writes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


class WalSyncer:
    """Syncs one WAL file on its thread: as soon as an intake write is committed (the
    thread is told on the store's thread, before the event loop hears of the write), and
    for anyone waiting on writes not yet on disk. Writes made during a sync share the
    next."""

    def __init__(self, wal: Path, name: str = "empfang-wal-sync") -> None:
        self._wal = wal
        self._lock = threading.Condition()
        self._written = 0
        """Intake writes committed so far; counted on the store's thread, at the write."""
        self._attempted = 0
        """``_written`` as the last sync began: what it covered, had it worked."""
        self._synced = 0
        """Of the writes, how many are known to be on disk."""
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        """Each with the writes it waits for."""
        self._stopping = False
        self.syncs = 0
        """``fdatasync`` calls so far (tests count them)."""
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def written(self) -> None:
        """An intake write has committed, not yet synced: sync now. Called on the store's
        thread in the same hand-off as the write, so that the sync starts without waiting
        for the event loop's turn, and a lease made after the write sees it pending."""
        with self._lock:
            self._written += 1
            self._lock.notify()

    async def synced(self) -> None:
        """Returns once every intake write committed before the call is on disk.

        Raises StoreError when the sync fails (the webhook is then answered 503, and Meta
        sends it again)."""
        with self._lock:
            if self._synced >= self._written:
                return
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append((self._written, future))
            self._lock.notify()
        await future

    def stop(self) -> None:
        """End the thread after the sync under way."""
        with self._lock:
            self._stopping = True
            self._lock.notify()

    def _serve(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(self._due)
                if self._stopping:
                    return
                covered = self._attempted = self._written  # these writes are in the file
            error = self._sync()
            with self._lock:
                if error is None:
                    self._synced = max(self._synced, covered)
                done = [future for target, future in self._waiters if target <= covered]
                self._waiters = [(t, f) for t, f in self._waiters if t > covered]
                if error is not None:  # the disk failed: everyone waiting hears of it
                    done += [future for _, future in self._waiters]
                    self._waiters = []
            for future in done:
                with contextlib.suppress(RuntimeError):  # the loop closed: no one waits
                    future.get_loop().call_soon_threadsafe(settle, future, None, error)

    def _due(self) -> bool:
        """A sync is due: a write came since the last one began, or someone waits (after a
        failed sync, the next asks again)."""
        return self._stopping or self._written > self._attempted or bool(self._waiters)

    def _sync(self) -> StoreError | None:
        try:
            sync_file(self._wal)
        except OSError as exc:
            return StoreError(f"cannot sync the store's WAL ({exc.strerror or exc})")
        finally:
            self.syncs += 1
        return None
