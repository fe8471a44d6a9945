"""Downloads stream into a private spool, hashed and capped, and are cleaned away."""

from __future__ import annotations

import base64
import hashlib
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.errors import MediaTooLarge
from bot.media.spool import Spool, spool_folder


def chunked(content: bytes, *, length: bool = False) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(content), 1000):
            yield content[start : start + 1000]

    headers = {"content-type": "application/pdf"}
    if length:
        headers["content-length"] = str(len(content))
    return httpx.Response(200, headers=headers, content=body())


async def test_a_download_lands_private_and_hashed(tmp_path: Path) -> None:
    spool = Spool(spool_folder(tmp_path / "empfang.sqlite3"))
    content = bytes(range(256)) * 40
    spooled = await spool.stream_to_file(chunked(content), cap=len(content))
    assert spooled.path.read_bytes() == content
    assert spooled.size == len(content)
    digest = hashlib.sha256(content)
    assert spooled.matches(digest.hexdigest())
    assert spooled.matches(base64.b64encode(digest.digest()).decode())
    assert not spooled.matches(hashlib.sha256(b"other").hexdigest())
    assert not spooled.matches("not a digest at all")
    assert stat.S_IMODE(spooled.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(spool.folder.stat().st_mode) == 0o700
    spooled.discard()
    assert list(spool.folder.iterdir()) == []


@pytest.mark.parametrize("length", [False, True], ids=["streamed", "announced"])
async def test_a_download_over_the_cap_stops_and_leaves_nothing(
    tmp_path: Path, length: bool
) -> None:
    spool = Spool(tmp_path / "spool")
    with pytest.raises(MediaTooLarge) as refused:
        await spool.stream_to_file(chunked(b"x" * 5000, length=length), cap=4096)
    assert refused.value.limit == 4096
    assert "application/pdf" in str(refused.value) and "4 KB" in str(refused.value)
    assert not spool.folder.exists() or list(spool.folder.iterdir()) == []


def test_leftovers_of_a_killed_process_are_cleaned_at_start(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    left = spool.new_path(".jpg")
    left.write_bytes(b"customer photo")
    with spool.temporary() as path:
        path.write_bytes(b"stripped")
    assert not path.exists()
    assert spool.clean() == 1
    assert list(spool.folder.iterdir()) == []
