"""Removing from the chat what the store has let go of (retention, privacy.md item 10;
erasure, item 13): a removed conversation's whole thread, or single posts whose message
bodies the retention purge blanked while their conversation stays.

The retention purge and ``empfang privacy erase`` only enqueue ``chat.remove`` and
``chat.remove_posts`` jobs, in the transaction that deletes or blanks: the CLI runs beside
the bot and has no chat connection, and a platform that is down must not hold up the
store's deletion. The running bot's workers do the removal, retried like any chat job.
Each finished removal is an audit row with what was removed and what had to stay (agents'
replies the bot has no right to remove), so the DPO can see what retention and erasure
could not reach. On a platform that cannot remove posts at all (erasure queues the job
whatever the platform) the row says so and nothing is tried.
"""

from __future__ import annotations

from bot.audit import BOT_ACTOR, AuditAction, AuditEntry, record
from bot.ids import ThreadId
from bot.job_catalog import RemovePostsJob, RemoveThreadJob
from bot.ports import ChatPlatform, Removal
from bot.routing import chatting_in
from bot.store import Store
from bot.store.jobs import Job
from bot.texts import Texts


class ChatRemoval:
    def __init__(self, store: Store, chat: ChatPlatform, texts: Texts) -> None:
        self._store = store
        self._chat = chat
        self._texts = texts

    async def remove(self, job: Job, payload: RemoveThreadJob) -> None:
        """``chat.remove``: the thread's posts go, a notice says why."""
        if payload.why == "retention":
            notice = self._texts.thread_removed_retention
        else:
            notice = self._texts.thread_removed_erasure
        removal = Removal()
        with chatting_in(payload.room, platform=payload.platform):
            if self._chat.capabilities.redaction:
                key = self._key("remove", job)
                thread = ThreadId(payload.thread_id)
                removal = await self._chat.remove_thread(thread, notice, key=key)
        await self._audit("chat.thread_removed", payload.why, removal, subject=payload.subject)

    async def remove_posts(self, job: Job, payload: RemovePostsJob) -> None:
        """``chat.remove_posts``: posts whose bodies were due go, their threads stay."""
        removal = Removal(kept=len(payload.posts))
        with chatting_in(payload.room, platform=payload.platform):
            if self._chat.capabilities.redaction:
                removal = await self._chat.remove_posts(
                    payload.posts,
                    reason=self._texts.post_removed_retention,
                    key=self._key("remove-posts", job),
                )
        await self._audit("chat.posts_removed", "retention", removal)

    def _key(self, name: str, job: Job) -> str:
        return f"{self._store.instance_id}:{name}-{job.id}"

    async def _audit(
        self, action: AuditAction, why: str, removal: Removal, *, subject: str | None = None
    ) -> None:
        details: dict[str, int | float | bool | str | None] = {
            "why": why,
            "posts_removed": removal.removed,
            "posts_kept": removal.kept,
            "platform": self._chat.name,
            "platform_removes_posts": self._chat.capabilities.redaction,
        }
        async with self._store.transaction() as tx:
            await record(tx, AuditEntry(action, BOT_ACTOR, subject=subject, details=details))
