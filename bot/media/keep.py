"""Stripped copies of relayed customer files, kept ``[media] keep_days`` and then deleted.

Off by default (``keep_days = 0``): the chat holds the file, and a second copy at rest is
personal data without a purpose. An admin who must be able to show what a customer sent
independently of the chat sets a number of days; copies then live in ``media-kept`` beside
the store (0700 folder, 0600 files) and are deleted once older, checked at every start and
after every file kept. A copy also goes when its message's media is due under
``[retention] media`` and when its customer is erased (:func:`remove_copies`), whichever
comes first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection
from pathlib import Path

from bot.clock import Clock
from bot.private_files import open_private

KEPT_FOLDER = "media-kept"
DAY = 86_400.0


def kept_folder(store_path: Path) -> Path:
    return store_path.resolve().parent / KEPT_FOLDER


class MediaKeeper:
    """Copies files into the kept folder and deletes those older than ``keep_days``."""

    def __init__(self, folder: Path, keep_days: int, clock: Clock) -> None:
        self.folder = folder
        self._seconds = keep_days * DAY
        self._clock = clock

    def keep(self, source: Path, message_id: int, name: str) -> Path:
        """A private copy named after the stored message, then the purge of old ones."""
        target = self.folder / f"{message_id}-{name}"
        with (
            source.open("rb") as read,
            os.fdopen(open_private(target, os.O_WRONLY | os.O_TRUNC), "wb") as write,
        ):
            shutil.copyfileobj(read, write)
        now = self._clock.now()
        os.utime(target, (now, now))  # aged by the bot's clock, which may be a test's
        self.purge()
        return target

    def purge(self) -> int:
        """Delete copies kept longer than ``keep_days``; returns how many."""
        if not self.folder.is_dir():
            return 0
        oldest = self._clock.now() - self._seconds
        removed = 0
        for entry in self.folder.iterdir():
            if entry.is_file() and entry.stat().st_mtime < oldest:
                entry.unlink(missing_ok=True)
                removed += 1
        return removed


def remove_copies(folder: Path, message_ids: Collection[int]) -> int:
    """Delete the kept copies of these messages (named ``<message id>-<name>``), whatever
    their age; returns how many. Copies an earlier ``keep_days`` left count too, so the
    folder is looked at even when keeping is off now."""
    if not message_ids or not folder.is_dir():
        return 0
    wanted = {str(message_id) for message_id in message_ids}
    removed = 0
    for entry in folder.iterdir():
        if entry.name.partition("-")[0] in wanted and entry.is_file():
            entry.unlink(missing_ok=True)
            removed += 1
    return removed
