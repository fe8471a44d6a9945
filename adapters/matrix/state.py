"""What the Matrix adapter must remember across restarts, in one small JSON file (mode 0600).

- the access token and device id from the one password login, so a restart reuses the device
  (a new device per start would orphan E2EE keys and break transaction-id dedupe);
- the sync token, written only *after* a batch was handed to the relay, so a crash replays
  the batch instead of losing it (nio's own token store writes it before any callback runs and
  only exists when encryption is on);
- the time of the first start, so history from before the bot existed is never delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Protocol

from bot.private_files import private_directory

log = logging.getLogger("empfang.matrix")

STATE_FILE = "empfang-matrix.json"


@dataclass(frozen=True)
class SessionState:
    homeserver: str = ""
    user_id: str = ""
    device_id: str = ""
    access_token: str = ""
    next_batch: str = ""
    first_start_ms: int = 0

    def __repr__(self) -> str:  # the token must never reach a log line
        return (
            f"SessionState(user_id={self.user_id!r}, device_id={self.device_id!r}, "
            f"has_token={bool(self.access_token)}, next_batch={self.next_batch!r}, "
            f"first_start_ms={self.first_start_ms})"
        )


class StateFile:
    """Atomic read/write of :class:`SessionState` under the adapter's ``store_path``."""

    def __init__(self, store_path: Path) -> None:
        self.directory = store_path
        self.path = store_path / STATE_FILE
        self.state = SessionState()

    def ensure_directory(self) -> None:
        """Create the store folder private to the bot: it holds tokens and E2EE keys."""
        private_directory(self.directory)

    def load(self) -> SessionState:
        try:
            raw: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raw = {}
        except (OSError, ValueError) as exc:
            # A corrupt file must not stop the bot; it starts like a first run (history is
            # still skipped because the first sync is ignored).
            log.warning("matrix state %s unreadable (%s); starting fresh", self.path, exc)
            raw = {}
        values: dict[str, Any] = {}
        if isinstance(raw, dict):
            for name in (f.name for f in fields(SessionState)):
                value = raw.get(name)
                expected = int if name == "first_start_ms" else str
                if isinstance(value, expected):
                    values[name] = value
        self.state = SessionState(**values)
        return self.state

    def update(self, **changes: Any) -> SessionState:
        """Change fields and write the file atomically (temp file, fsync, rename)."""
        self.state = replace(self.state, **changes)
        self.ensure_directory()
        tmp = self.path.with_suffix(".tmp")
        data = json.dumps(asdict(self.state), indent=1).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o600)  # O_CREAT's mode does not apply to an existing leftover
        os.replace(tmp, self.path)
        return self.state


class SyncPosition(Protocol):
    """Where the sync loop continues: the token of the last batch handed to the relay."""

    async def load(self) -> str:
        """The stored token; empty before the first sync ever."""
        ...

    async def save(self, token: str) -> None: ...


class FilePosition:
    """The sync token in the state file: one process, one file (the default). Several
    replicas keep it in the database instead (``bot.ha.sync_position``), so that whichever
    leads continues where the last leader stopped."""

    def __init__(self, state_file: StateFile) -> None:
        self._state = state_file

    async def load(self) -> str:
        return self._state.state.next_batch

    async def save(self, token: str) -> None:
        """Off the event loop: the write ends in an fsync (up to ~100 ms on a VM disk),
        which on the loop held up webhook acks after every sync
        (bench/relay_overhead.py: 21 % of the loop's busy time)."""
        await asyncio.to_thread(self._state.update, next_batch=token)
