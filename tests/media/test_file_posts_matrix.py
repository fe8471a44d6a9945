"""A customer's file is an event of its own in the Matrix thread, and it leaves the chat
with the line that described it, on a real Synapse: the retention purge of bodies, the
purge of media (``[retention] media``: the file's event goes, the line stays), the
customer's delete, and erasure (the whole thread). The bot's own events need no power
level to be redacted. The relay, purge and jobs are the production wiring around the real
``MatrixPlatform``; the customer's file comes from the WhatsApp sandbox."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.dpo.erase import erase_subject
from bot.dpo.export import Subject
from tests.matrix.conftest import StartPlatform, Team
from tests.media.file_posts import FileDesk, file_desk
from tests.privacy.retention_chat import DAY, chat_ids
from tests.sandbox.harness import CUSTOMER_WA_ID


@asynccontextmanager
async def matrix_desk(
    team: Team, start_platform: StartPlatform, tmp_path: Path, **config: Any
) -> AsyncIterator[FileDesk]:
    platform, _ = await start_platform(team.section())
    async with file_desk(tmp_path, platform, time.time(), **config) as desk:
        yield desk


def file_post(db: Path) -> tuple[str, str]:
    """The recorded file post: its event and the ``mxc://`` URI it shows."""
    with sqlite3.connect(db) as conn:
        (row,) = conn.execute("SELECT chat_id, file_ref FROM media_posts").fetchall()
    return str(row[0]), str(row[1])


async def redacted(team: Team, event_id: str) -> bool:
    return bool((await team.reader.event(event_id))["content"] == {})


@pytest.mark.parametrize(
    ("media", "days", "line_goes"),
    [("365d", 91, True), ("30d", 31, False)],
    ids=["messages-due", "media-due"],
)
async def test_due_files_leave_the_thread_with_their_line_or_before_it(
    team: Team,
    start_platform: StartPlatform,
    tmp_path: Path,
    media: str,
    days: int,
    line_goes: bool,
) -> None:
    """Bodies due (``messages``, 90 days): line and file event go. Media due first
    (``media``): the file event goes, the line stays until ``messages``."""
    async with matrix_desk(team, start_platform, tmp_path, retention={"media": media}) as desk:
        await desk.customer_sends_pdf()
        (line,) = chat_ids(desk.db)
        assert line is not None
        event, mxc = file_post(desk.db)
        shown = (await team.reader.event(event))["content"]
        assert shown["msgtype"] == "m.file" and shown["url"] == mxc

        desk.clock.advance(days * DAY)
        await desk.purge()

        assert await redacted(team, event), "the file's event is redacted"
        assert await redacted(team, line) is line_goes


async def test_a_customers_delete_takes_the_file_event_along(
    team: Team, start_platform: StartPlatform, tmp_path: Path
) -> None:
    async with matrix_desk(team, start_platform, tmp_path) as desk:
        wamid = await desk.customer_sends_pdf()
        event, _ = file_post(desk.db)

        await desk.customer_deletes(wamid)

        assert await redacted(team, event)


async def test_erasure_redacts_the_file_event_with_the_thread(
    team: Team, start_platform: StartPlatform, tmp_path: Path
) -> None:
    async with matrix_desk(team, start_platform, tmp_path) as desk:
        await desk.customer_sends_pdf()
        event, _ = file_post(desk.db)

        async with desk.store.transaction() as tx:
            await erase_subject(tx, Subject(wa_id=CUSTOMER_WA_ID), "cli:dpo", "Antrag", {})
        await desk.wired.workers.run_until_idle()

        assert await redacted(team, event)
