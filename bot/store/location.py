"""Where the configured store is, for the commands that open it beside the running bot
(``empfang ledger``, ``audit``, ``privacy``, ``jobs``, ``status``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


@dataclass(frozen=True)
class StoreLocation:
    database: Path | str
    """The SQLite file, or the PostgreSQL url."""
    files: Path
    """The SQLite file; with PostgreSQL ``[store] path``, where Empfang's local files
    (media spool, kept copies) are anchored."""
    password: str | None = None

    def __str__(self) -> str:
        """For messages: the file, or the url without a password in it."""
        if isinstance(self.database, Path):
            return str(self.database)
        parts = urlsplit(self.database)
        if parts.password is None:
            return self.database
        netloc = parts.netloc.replace(f":{parts.password}@", ":•••@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
