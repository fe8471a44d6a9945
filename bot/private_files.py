"""Files and folders that hold personal data are created private: 0600 files, 0700 folders.

The store holds every customer's number, the Matrix store holds tokens and E2EE keys, the
JSONL case sink and backups hold message texts. Their modes must not depend on the umask the
bot happens to be started with (the usual 022 makes a new file readable by every local
user). ``os.open``'s and ``mkdir``'s mode is filtered by the umask, so each function here sets
the mode explicitly after creating, and tightens a file left too open by an earlier version.

Folders are tightened only when Empfang created them: an existing folder (``/var/lib``, the
working directory) belongs to the admin; ``empfang check-config`` warns when one that holds
Empfang's files can be read by others (:func:`open_to_others`).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("empfang")

FILE_MODE = 0o600
DIR_MODE = 0o700

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside a database; they hold the same data as the database."""


def private_directory(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0700; existing folders stay as they are."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # created meanwhile by someone else: theirs, not ours
        os.chmod(folder, DIR_MODE)


def open_private(path: Path, flags: int) -> int:
    """``os.open`` with ``O_CREAT`` that leaves the file 0600 whether or not it existed.

    The parent folder is created private when missing.
    """
    private_directory(path.parent)
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            _chmod_or_warn(path, lambda: os.fchmod(fd, FILE_MODE))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _chmod_or_warn(path: Path, chmod: Callable[[], None]) -> None:
    """A file of another owner (e.g. created by root, writable through a group) cannot be
    changed; the bot still works with it, so this is said once and not fatal."""
    try:
        chmod()
    except PermissionError:
        log.warning("cannot make %s private (not its owner); run `chmod 600` on it", path)


def private_file(path: Path) -> None:
    """Make sure ``path`` exists and is 0600 (before a library such as SQLite opens it)."""
    os.close(open_private(path, os.O_RDONLY))


def tighten(path: Path) -> None:
    """Set an existing file to 0600 (files a library created with its own mode)."""
    try:
        if stat.S_IMODE(path.stat().st_mode) != FILE_MODE:
            _chmod_or_warn(path, lambda: os.chmod(path, FILE_MODE))
    except FileNotFoundError:
        pass


def tighten_sqlite(path: Path) -> None:
    """A database and the companions SQLite keeps beside it: all 0600.

    SQLite creates ``-wal``, ``-shm`` and ``-journal`` with the mode of the database file, so
    a private database keeps them private; companions left by an older version are fixed here.
    """
    tighten(path)
    for suffix in SQLITE_COMPANIONS:
        tighten(path.with_name(path.name + suffix))


def tighten_tree(folder: Path) -> None:
    """Every regular file directly in ``folder`` to 0600 (a library's store folder)."""
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_file() and not entry.is_symlink():
            tighten(entry)


def open_to_others(folder: Path) -> bool:
    """True when users other than the owner may list or enter ``folder`` (group/other bits)."""
    try:
        mode = folder.stat().st_mode
    except FileNotFoundError:
        return False
    return bool(stat.S_IMODE(mode) & 0o077)
