"""Persistence: SQLite (aiosqlite) or PostgreSQL (asyncpg). Nothing outside this package
writes SQL."""

from bot.store.database import Store, Tx
from bot.store.location import StoreLocation

__all__ = ["Store", "StoreLocation", "Tx"]
