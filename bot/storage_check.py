"""``check-config``'s warnings about folders that let other local users at personal data.

Empfang makes its own files 0600 and the folders it creates 0700 (``bot.private_files``), but
leaves a folder that already existed alone: it belongs to the admin. A warning, not an error:
the bot works either way, and some setups share a folder with a backup user on purpose.
"""

from __future__ import annotations

import stat
from pathlib import Path

from bot.config import Settings
from bot.config.cases import JsonlSinkSection
from bot.private_files import open_to_others


def _places(settings: Settings) -> list[tuple[str, Path, str]]:
    """(key, folder, what it holds) for every folder that holds Empfang's files."""
    holds = "customers' files" if settings.store.postgresql else "every customer's number"
    places = [("store.path", settings.store.path.parent, holds)]
    if settings.chat.platform == "matrix":
        places.append(("matrix.store_path", settings.matrix.store_path, "the bot's token and keys"))
    for index, sink in enumerate(settings.cases):
        if isinstance(sink, JsonlSinkSection):
            places.append((f"cases[{index}].path", sink.path.parent, "message texts"))
    return places


def storage_warnings(settings: Settings) -> list[str]:
    """One line per existing folder whose group or other permission bits are set."""
    warnings = []
    for key, folder, holds in _places(settings):
        if open_to_others(folder):
            folder = folder.resolve()
            mode = stat.S_IMODE(folder.stat().st_mode)
            warnings.append(
                f"{key}: folder {folder} is open to other users (mode {mode:04o}) and holds "
                f"{holds}; run `chmod 700 {folder}` or move the files to a private folder"
            )
    return warnings
