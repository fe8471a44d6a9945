"""Persistence: SQLite via aiosqlite. Nothing outside this package writes SQL."""

from bot.store.database import Store, Tx

__all__ = ["Store", "Tx"]
