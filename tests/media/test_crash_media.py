"""kill -9 in the middle of a media relay: after the restart the file is in the thread
once, and the temporary files the killed process left are gone.

The bot runs in a process of its own (``tests.media.crash_bot``) on the fake Slack and the
sandbox served here. The fake holds back its answer to ``files.completeUploadExternal``
after sharing the file, and the bot is killed while it waits: the worst moment, since the
file is in the thread but the job does not know it. The restarted bot finds the upload
through the journal in the job (``files.info``) instead of sharing the file again.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path

from bot.demo.stack import free_port
from bot.sandbox import SandboxServer
from tests.fakes.slack import FakeSlack
from tests.media.crash_bot import crash_settings
from tests.media.customer import send_file
from tests.media.images import metadata_left, phone_photo
from tests.slack.stack import wait_for

ROOT = Path(__file__).parents[2]


async def spawn(
    store: Path, fake: FakeSlack, sandbox: SandboxServer, port: int
) -> tuple[asyncio.subprocess.Process, Path]:
    ready = store.parent / f"ready-{free_port()}"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.media.crash_bot",
        str(store),
        fake.base_url,
        sandbox.graph_url,
        str(port),
        str(ready),
        cwd=ROOT,
    )
    return process, ready


def media_jobs(store: Path) -> int:
    with sqlite3.connect(store) as conn:
        return int(
            conn.execute("SELECT count(*) FROM jobs WHERE kind = 'relay.media'").fetchone()[0]
        )


async def started(process: asyncio.subprocess.Process, ready: Path) -> None:
    async def up() -> bool:
        if process.returncode is not None:
            raise AssertionError(f"bot exited with {process.returncode}")
        return await asyncio.to_thread(ready.exists)

    for _ in range(600):
        if await up():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("bot did not start")


async def test_killed_during_a_media_relay_the_file_is_posted_once(tmp_path: Path) -> None:
    store = tmp_path / "empfang.sqlite3"
    spool = tmp_path / "media-spool"
    port = free_port()
    async with FakeSlack(mode="socket", rate=20.0, ack_timeout=1.0) as fake:
        settings = crash_settings(store, fake.base_url, "", port)
        async with SandboxServer(settings, port=0) as sandbox:
            fake.fail_next("files.completeUploadExternal", after_effect=True, delay=5.0)
            first, ready = await spawn(store, fake, sandbox, port)
            try:
                await started(first, ready)
                send_file(sandbox, "image", phone_photo(), "image/jpeg")
                await wait_for(lambda: fake.calls("files.completeUploadExternal"), 20)
                left = sorted(spool.iterdir())
                assert left, "the relay keeps its stripped image in the spool while uploading"
            finally:
                first.send_signal(signal.SIGKILL)
                await first.wait()
            assert len(fake.files.shared()) == 1  # shared, but the job never heard of it

            second, ready = await spawn(store, fake, sandbox, port)
            try:
                await started(second, ready)
                assert not any(path.exists() for path in left)  # cleaned at start
                await wait_for(lambda: media_jobs(store) == 0, 30)
            finally:
                second.send_signal(signal.SIGTERM)
                await second.wait()

            shared = fake.files.shared()
            assert len(shared) == 1
            assert shared[0].content is not None and metadata_left(shared[0].content) == []
            assert len(fake.calls("files.getUploadURLExternal")) == 1
            assert list(spool.iterdir()) == []
