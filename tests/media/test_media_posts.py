"""``bot.store.media_posts`` on a real SQLite store."""

from __future__ import annotations

from pathlib import Path

from bot.ids import ChatMessageId
from bot.store import Store


async def test_a_file_posted_for_a_message_erased_meanwhile_is_not_recorded(
    store_target: Path | str,
) -> None:
    """Erasure cancels the media job but not an upload already running; the job's record
    then finds no message. It must neither fail (the job would retry a finished upload)
    nor keep a post of nobody: the thread's removal takes the file along."""
    store = await Store.open(store_target)
    try:
        async with store.transaction() as tx:
            await tx.media_posts.record(404, ChatMessageId("F0GONE"), "F0GONE", posted_at=1.0)
            assert await tx.media_posts.of([404]) == []
    finally:
        await store.close()
