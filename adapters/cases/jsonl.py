"""JSONL sink: one JSON case event per line, appended to a file (for shops without a helpdesk).

The lines are the webhook's documents (README "Case systems"). The file is ``0600`` whatever
the umask, also when log rotation created it anew (it holds message texts), and it is opened
with ``O_APPEND`` for every line, so external log rotation can move it away at any time.
Each line is flushed and fsynced before the transfer counts as delivered. A crash between the
write and the job's bookkeeping can repeat a line; readers de-duplicate by ``id``.

The file is Empfang's own archive, so an ``erased`` transfer (``empfang privacy erase``)
is not appended but carried out: the file is rewritten without the conversation's lines
(a private temporary file renamed over it; appends wait meanwhile). Copies made by log
rotation or backups are beyond its reach.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path

from adapters.cases.base import SendingSink
from bot.cases.document import as_json
from bot.cases.model import CaseRef, Transfer
from bot.config.cases import JsonlSinkSection
from bot.errors import CaseSinkError
from bot.private_files import open_private


def _append_line(path: Path, line: bytes) -> None:
    fd = open_private(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _drop_conversation(path: Path, conversation_id: int, requester: str) -> None:
    try:
        lines = path.read_bytes().splitlines(keepends=True)
    except FileNotFoundError:
        return
    kept = [line for line in lines if not _belongs(line, conversation_id, requester)]
    if len(kept) == len(lines):
        return
    temporary = path.with_name(path.name + ".erasing")
    fd = open_private(temporary, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, b"".join(kept))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def _belongs(line: bytes, conversation_id: int, requester: str) -> bool:
    try:
        conversation = json.loads(line).get("conversation") or {}
    except (ValueError, AttributeError):
        return False  # not one of ours: leave it
    return bool(
        conversation.get("id") == conversation_id and conversation.get("requester") == requester
    )


class JsonlSink(SendingSink):
    def __init__(self, settings: JsonlSinkSection) -> None:
        self.settings = settings
        self._writing = asyncio.Lock()
        """Appends wait while an erasure rewrites the file, so no line is lost."""

    async def send(self, ref: CaseRef, transfer: Transfer) -> CaseRef:
        if transfer.event == "erased":
            await self._write(
                "erase", _drop_conversation, transfer.conversation_id, transfer.requester
            )
            return ref
        line = as_json(transfer, sink=self.settings.name, case_id=ref.case_id) + b"\n"
        await self._write("append", _append_line, line)
        return ref

    async def _write(self, what: str, change: Callable[..., None], *args: object) -> None:
        try:
            async with self._writing:
                await asyncio.to_thread(change, self.settings.path, *args)
        except OSError as error:
            # A full disk or a permission problem may be fixed while the job waits.
            raise CaseSinkError(
                f"jsonl {self.settings.name!r}: cannot {what} ({error.strerror})", retryable=True
            ) from error
