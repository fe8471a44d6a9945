"""A private folder for files on their way through: downloaded, stripped, uploaded, deleted.

A 100 MB document must not sit in memory (the bot serves every conversation from one
process), so downloads stream to a file here, chunk by chunk, hashed while they are written
and stopped as soon as they pass the size cap. The folder is 0700 and its files 0600
(``bot.private_files``): customer media is personal data. A file lives only while one job
relays it; leftovers of a process that died mid-relay are deleted when the next one starts
(:meth:`Spool.clean`), so no copy of customer media stays at rest.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.errors import MediaTooLarge
from bot.media.limits import base_type, human_size
from bot.private_files import open_private, private_directory

SPOOL_FOLDER = "media-spool"
"""The spool's name inside the data folder (the folder of ``[store] path``)."""
CHUNK_BYTES = 64 * 1024


class ByteStream(Protocol):
    """What :meth:`Spool.stream_to_file` reads: an ``httpx.Response`` opened with
    ``client.stream(...)`` has exactly this."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]: ...


@dataclass(frozen=True)
class SpooledFile:
    """A file in the spool: where, how many bytes, their sha256 (hex)."""

    path: Path
    size: int
    sha256: str

    def matches(self, expected: str) -> bool:
        """Whether ``expected`` names this content. WhatsApp writes the digest in hex in
        media lookups and in base64 in webhooks (fact sheet §3); both are accepted."""
        wanted = expected.strip()
        if wanted.lower() == self.sha256:
            return True
        try:
            decoded = base64.b64decode(wanted, validate=True)
        except (binascii.Error, ValueError):
            return False
        return decoded.hex() == self.sha256

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def spool_folder(store_path: Path) -> Path:
    """The spool beside the store: the data folder the admin already keeps private."""
    return store_path.resolve().parent / SPOOL_FOLDER


class Spool:
    """Temporary files for media, private and short-lived."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def clean(self) -> int:
        """Delete what a stopped or killed process left; returns how many files."""
        private_directory(self.folder)
        removed = 0
        for entry in self.folder.iterdir():
            if entry.is_file() or entry.is_symlink():
                entry.unlink(missing_ok=True)
                removed += 1
        return removed

    def new_path(self, suffix: str = "") -> Path:
        """A fresh name in the spool (the file is not created)."""
        private_directory(self.folder)
        return self.folder / f"{secrets.token_hex(12)}{suffix}"

    @contextlib.contextmanager
    def temporary(self, suffix: str = "") -> Iterator[Path]:
        """A spool path that is deleted when the block ends, however it ends."""
        path = self.new_path(suffix)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    async def stream_to_file(
        self, response: ByteStream, cap: int, *, mime: str = ""
    ) -> SpooledFile:
        """Write the response body to a new spool file, hashing it on the way.

        Stops with :class:`MediaTooLarge` once more than ``cap`` bytes arrived (or the
        ``Content-Length`` says so before anything is read); the partial file is deleted.
        """
        bare = base_type(mime or response.headers.get("content-type", "")) or "unknown type"
        announced = response.headers.get("content-length", "")
        if announced.isdigit() and int(announced) > cap:
            raise _too_large(bare, int(announced), cap)
        path = self.new_path()
        digest = hashlib.sha256()
        size = 0
        try:
            fd = open_private(path, os.O_WRONLY | os.O_TRUNC)
            with os.fdopen(fd, "wb") as file:
                async for chunk in response.aiter_bytes(CHUNK_BYTES):
                    size += len(chunk)
                    if size > cap:
                        raise _too_large(bare, None, cap)
                    digest.update(chunk)
                    file.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return SpooledFile(path=path, size=size, sha256=digest.hexdigest())


def _too_large(mime: str, size: int | None, cap: int) -> MediaTooLarge:
    said = human_size(size) if size is not None else f"more than {human_size(cap)}"
    return MediaTooLarge(
        f"the {mime} file ({said}) is larger than the {human_size(cap)} allowed for this type",
        mime=mime,
        size=size,
        limit=cap,
    )
