"""JSONL sink: one JSON case event per line, appended to a file (for shops without a helpdesk).

The lines are the webhook's documents (README "Case systems"). The file is ``0600`` whatever
the umask, also when log rotation created it anew (it holds message texts), and it is opened
with ``O_APPEND`` for every line, so external log rotation can move it away at any time.
Each line is flushed and fsynced before the transfer counts as delivered. A crash between the
write and the job's bookkeeping can repeat a line; readers de-duplicate by ``id``.
"""

from __future__ import annotations

import asyncio
import os
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


class JsonlSink(SendingSink):
    def __init__(self, settings: JsonlSinkSection) -> None:
        self.settings = settings

    async def send(self, ref: CaseRef, transfer: Transfer) -> CaseRef:
        line = as_json(transfer, sink=self.settings.name, case_id=ref.case_id) + b"\n"
        try:
            await asyncio.to_thread(_append_line, self.settings.path, line)
        except OSError as error:
            # A full disk or a permission problem may be fixed while the job waits.
            raise CaseSinkError(
                f"jsonl {self.settings.name!r}: cannot append ({error.strerror})", retryable=True
            ) from error
        return ref
