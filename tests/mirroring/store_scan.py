"""Where in the store a text still is: every table, every row."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def stored_anywhere(db: Path, needle: str) -> list[str]:
    """The tables (one entry per row) that hold ``needle`` anywhere."""
    found = []
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):
                if any(needle in str(value) for value in row):
                    found.append(table)
    return found
