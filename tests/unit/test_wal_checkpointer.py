"""The SQLite WAL is copied back into the database file by the checkpointer's thread, not
inside a COMMIT under the store's lock (issue 16: 5–25 ms ack stalls at 1,000 msgs/s)."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
import time
from pathlib import Path

from bot.store import Store
from bot.store.checkpointer import BACKSTOP_PAGES, WalCheckpointer
from bot.store.sqlite_backend import SqliteBackend

PAGE = 4096


def _fill(conn: sqlite3.Connection) -> None:
    """One commit's worth: ten rows of about a page each (~13 WAL frames)."""
    conn.execute("CREATE TABLE IF NOT EXISTS filler (blob BLOB)")
    conn.executemany("INSERT INTO filler VALUES (randomblob(?))", [(PAGE - 200,)] * 10)


def _rows_in_file(path: Path) -> int:
    """Rows in the database file itself, the WAL ignored; 0 while the file is not a whole
    database yet (no table, or a pass is copying pages: locks are ignored too)."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM filler").fetchone()[0])
        except sqlite3.DatabaseError:
            return 0


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _wal_frames(path: Path) -> int:
    return (path.with_name(path.name + "-wal").stat().st_size - 32) // (PAGE + 24)


async def test_commits_never_copy_the_wal_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    # The checkpointer waits an hour after a commit: whatever reaches the file meanwhile
    # was written by the commits themselves.
    backend = await SqliteBackend.open(path, synchronous="full", checkpoint_pause=3600)
    try:
        before = _digest(path)
        for _ in range(200):  # SQLite's own checkpoint would fire at 1,000 frames
            await backend.run_sync(_fill, transaction=True)
        assert 2_000 < _wal_frames(path) < BACKSTOP_PAGES
        assert _digest(path) == before
        assert backend.checkpointer.passes == 0
    finally:
        await backend.close()


async def test_the_checkpointer_copies_the_wal_after_commits(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = await Store.open(path)
    try:
        for _ in range(200):
            await store.run_sync(_fill)
        for _ in range(200):  # up to 10 s on a loaded machine; ~50 ms when it is quiet
            if _rows_in_file(path) == 2_000:
                break
            await asyncio.sleep(0.05)
        assert _rows_in_file(path) == 2_000
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT count(*) FROM filler").fetchone() == (2_000,)


async def test_closing_ends_the_thread_and_removes_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = await Store.open(path)
    await store.run_sync(_fill)
    await store.close()
    assert "empfang-checkpoint" not in [t.name for t in threading.enumerate()]
    assert _names(tmp_path) == ["s.sqlite3"]


async def test_an_idle_store_runs_no_checkpoints(tmp_path: Path) -> None:
    """Passes after a burst of commits, none while nothing is written (idle is idle)."""
    backend = await SqliteBackend.open(
        tmp_path / "s.sqlite3", synchronous="full", checkpoint_pause=0.01
    )
    try:
        for _ in range(5):
            await backend.run_sync(_fill, transaction=True)
        for _ in range(100):
            if backend.checkpointer.passes:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        after_burst = backend.checkpointer.passes
        for _ in range(5):  # read-only commits, as idle job workers make: nothing to copy
            await backend.run_sync(lambda raw: raw.execute("SELECT 1").fetchall(), transaction=True)
        await asyncio.sleep(0.5)
        assert after_burst >= 1
        assert backend.checkpointer.passes == after_burst
    finally:
        await backend.close()


def test_stop_right_after_a_commit_always_ends(tmp_path: Path) -> None:
    """A stop that came between the pause and the thread clearing its wake-up was cleared
    with it: the thread slept for good and ``stop()`` joined it for good (a bot that never
    exited on SIGTERM, a test run that never ended). Stops are aimed at that moment."""
    path = tmp_path / "stop.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        _fill(conn)
    pause = 0.0005
    for attempt in range(300):
        checkpointer = WalCheckpointer(path, synchronous="full", pause=pause)
        checkpointer.written()
        time.sleep(pause * (0.8 + 0.04 * (attempt % 10)))
        stopping = threading.Thread(target=checkpointer.stop, daemon=True)
        stopping.start()
        stopping.join(5)
        assert not stopping.is_alive(), f"stop() never returned (attempt {attempt})"
