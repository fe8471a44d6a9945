"""A customer's file is a post of its own in the Slack thread (files v2), and it leaves the
chat with the line that described it: the retention purge of bodies (``[retention]
messages``), the purge of media (``[retention] media``, which also blanks the stored media
reference and deletes kept copies), the customer's delete, and erasure. On Slack the file
goes by ``files.delete`` (the fake models it from docs.slack.dev): deleting only the share
message would leave the file downloadable by its ``url_private``.

The relay, the purge and the jobs are the production wiring around the real
``SlackPlatform`` on the fake Slack; the customer's file comes from the WhatsApp sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from bot.dpo.erase import erase_subject, report
from bot.dpo.export import Subject
from bot.media.keep import kept_folder
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.fakes.slack_files import StoredFile
from tests.media.file_posts import CAPTION, FileDesk, file_desk
from tests.privacy.retention_chat import AGENT, DAY, audit, chat_ids, slack_with_agent
from tests.sandbox.harness import CUSTOMER_WA_ID

START = 1_800_000_000.0


@asynccontextmanager
async def slack_desk(tmp_path: Path, **config: Any) -> AsyncIterator[tuple[FileDesk, FakeSlack]]:
    async with FakeSlack(rate=50.0, burst=20) as fake:
        platform = slack_with_agent(fake)
        async with file_desk(tmp_path, platform, START, **config) as desk:
            await platform.start(desk.wired.relay.on_agent_event)
            try:
                yield desk, fake
            finally:
                await platform.stop()


def the_file(fake: FakeSlack) -> StoredFile:
    (stored,) = fake.files.shared()
    return stored


async def downloadable(fake: FakeSlack, stored: StoredFile) -> bool:
    url = f"{fake.base_url}/files-pri/T0EMPFANG-{stored.file_id}/{stored.filename}"
    async with httpx.AsyncClient() as http:
        answer = await http.get(url, headers={"Authorization": f"Bearer {BOT_TOKEN}"})
    return answer.status_code == 200


def posts(fake: FakeSlack, thread: str) -> list[str]:
    return [str(message.get("ts")) for message in fake.thread(thread)]


def shares(fake: FakeSlack, thread: str) -> list[Any]:
    """The thread's messages that share a file."""
    return [message for message in fake.thread(thread) if message.get("files")]


async def test_a_due_line_takes_its_file_along(tmp_path: Path) -> None:
    async with slack_desk(tmp_path, retention={"media": "365d"}) as (desk, fake):
        await desk.customer_sends_pdf()
        thread = fake.roots()[0]["ts"]
        (line,) = chat_ids(desk.db)
        stored = the_file(fake)
        assert fake.files.in_thread(thread) == [stored]
        assert await downloadable(fake, stored)

        desk.clock.advance(91 * DAY)
        await desk.purge()

        assert fake.files.in_thread(thread) == [], "the file went with its line"
        assert not await downloadable(fake, stored), "deleted, not only unshared"
        assert line not in posts(fake, thread), "the line is gone"
        assert shares(fake, thread) == [], "so is the file's share"
    (run,) = audit(desk.db, "retention.purge")
    assert run["message_bodies"] == 1 and run["chat_posts_queued"] == 2


async def test_due_media_leave_the_chat_and_the_store_before_the_line(tmp_path: Path) -> None:
    config = {"retention": {"media": "30d"}, "media": {"keep_days": 60}}
    async with slack_desk(tmp_path, **config) as (desk, fake):
        await desk.customer_sends_pdf()
        thread = fake.roots()[0]["ts"]
        (line,) = chat_ids(desk.db)
        stored = the_file(fake)
        folder = kept_folder(desk.db)
        assert len(list(folder.iterdir())) == 1, "keep_days keeps a copy"
        assert desk.media_reference() is not None
        await fake.agent_reply(thread, AGENT, "Danke, wir prüfen die Rechnung")
        await desk.wired.workers.run_until_idle()  # an agent's reply (plain text) is as old

        desk.clock.advance(29 * DAY)
        await desk.purge()
        assert fake.files.in_thread(thread) == [stored], "not due yet"

        desk.clock.advance(2 * DAY)  # a day's run later: 31 days
        await desk.purge()

        assert fake.files.in_thread(thread) == [] and not await downloadable(fake, stored)
        assert line in posts(fake, thread), "the line stays until [retention] messages"
        assert shares(fake, thread) == []
        assert list(folder.iterdir()) == [], "the kept copy is deleted with it"
        media = desk.media_reference()
    assert '"media_id":""' in media and "url" not in media and "sha256" not in media
    assert CAPTION in media, "the caption is the body's: it stays until messages are due"
    first, second = audit(desk.db, "retention.purge")
    assert first["media_references"] == 0 and first["chat_posts_queued"] == 0
    assert second["media_references"] == 1 and second["chat_posts_queued"] == 1
    assert second["media_copies"] == 1


async def test_a_customers_delete_takes_the_file_along(tmp_path: Path) -> None:
    async with slack_desk(tmp_path) as (desk, fake):
        wamid = await desk.customer_sends_pdf()
        thread = fake.roots()[0]["ts"]
        stored = the_file(fake)

        await desk.customer_deletes(wamid)

        assert fake.files.in_thread(thread) == [] and not await downloadable(fake, stored)
        texts = [str(message.get("text")) for message in fake.thread(thread)]
    assert not any(CAPTION in text for text in texts), texts


async def test_erasure_deletes_the_files_and_their_kept_copies(tmp_path: Path) -> None:
    async with slack_desk(tmp_path, media={"keep_days": 30}) as (desk, fake):
        await desk.customer_sends_pdf()
        stored = the_file(fake)
        folder = kept_folder(desk.db)
        assert len(list(folder.iterdir())) == 1

        async with desk.store.transaction() as tx:
            erasure = await erase_subject(
                tx, Subject(wa_id=CUSTOMER_WA_ID), "cli:dpo", "Antrag", {}, kept=folder
            )
        await desk.wired.workers.run_until_idle()

        assert not await downloadable(fake, stored), "the file, not only its share"
        assert fake.files.shared()[0].deleted
        assert list(folder.iterdir()) == []
    assert erasure.media_copies == 1
    assert "media: 1 kept copy(ies) of their files deleted" in report(erasure)
