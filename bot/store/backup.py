"""``empfang backup``: a consistent copy of the SQLite store, taken while the bot runs.

Copying the file with ``cp`` while the bot writes can tear a page or miss what still sits in
the ``-wal`` file. SQLite's online backup API copies from one read transaction instead: a
snapshot of the last commit before it started. It runs in one step (``pages=-1``): in WAL
mode a reader never blocks the bot's writer, and a stepwise copy would restart every time the
bot commits, so under load it might never finish.

The copy is written beside the output under a temporary name, switched to a single-file
journal (no ``-wal`` to forget), checked with ``PRAGMA integrity_check``, synced, and only then
renamed onto the output: a failed backup never leaves a half-written file under that name.
It is ``0600`` like the store: it holds every customer's number.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.errors import StoreError
from bot.private_files import open_private


@dataclass(frozen=True)
class BackupResult:
    """What the copy holds, for the operator's log (no content)."""

    path: Path
    size_bytes: int
    schema_version: int


def _connect_existing(path: Path) -> sqlite3.Connection:
    """Open the store without ever creating one (a typo in store.path must not back up nothing)."""
    if not path.is_file():
        raise StoreError(f"no database at {path} (store.path in the config)")
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open store {path}: {exc}") from exc


def _sync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: sqlite3.Connection, target: Path) -> int:
    """Back ``source`` up into ``target``; return the copy's schema version."""
    os.close(open_private(target, os.O_WRONLY | os.O_TRUNC))
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode = DELETE")
        verdict = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if verdict != ["ok"]:
            raise StoreError(f"the copy failed PRAGMA integrity_check: {'; '.join(verdict[:3])}")
        version = int(copy.execute("PRAGMA user_version").fetchone()[0])
    finally:
        copy.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return version


def backup_store(store_path: Path, output: Path) -> BackupResult:
    """Copy the store at ``store_path`` to ``output`` (replaced atomically if it exists).

    Blocking: the CLI calls it directly. Raises :class:`StoreError` with the reason.
    """
    if output.resolve() == store_path.resolve():
        raise StoreError("--output must not be the store itself")
    temporary = output.with_name(f".{output.name}.partial")
    source = _connect_existing(store_path)
    try:
        version = _copy(source, temporary)
        os.replace(temporary, output)
        _sync_directory(output.parent)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"backup to {output} failed: {exc}") from exc
    finally:
        source.close()
        temporary.unlink(missing_ok=True)
    return BackupResult(output, output.stat().st_size, version)
