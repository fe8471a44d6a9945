"""Removing a conversation's thread from the chat once the store has let go of it
(retention, privacy.md item 10; erasure, item 13).

The retention purge and ``empfang privacy erase`` only enqueue ``chat.remove`` jobs, in the
transaction that deletes the conversation: the CLI runs beside the bot and has no chat
connection, and a platform that is down must not hold up the store's deletion. The running
bot's workers do the removal, retried like any chat job. Each finished removal is an audit
row with what was removed and what had to stay (agents' replies the bot has no right to
remove), so the DPO can see what erasure could not reach. On a platform that cannot remove
posts at all (erasure queues the job whatever the platform) the row says so and nothing is
tried.
"""

from __future__ import annotations

from bot.audit import BOT_ACTOR, AuditEntry, record
from bot.ids import ThreadId
from bot.job_catalog import RemoveThreadJob
from bot.ports import ChatPlatform, Removal
from bot.store import Store
from bot.store.jobs import Job
from bot.texts import Texts


class ThreadRemoval:
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
        key = f"{self._store.instance_id}:remove-{job.id}"
        removable = self._chat.capabilities.redaction
        removal = Removal()
        if removable:
            removal = await self._chat.remove_thread(ThreadId(payload.thread_id), notice, key=key)
        async with self._store.transaction() as tx:
            await record(
                tx,
                AuditEntry(
                    "chat.thread_removed",
                    BOT_ACTOR,
                    subject=payload.subject,
                    details={
                        "why": payload.why,
                        "posts_removed": removal.removed,
                        "posts_kept": removal.kept,
                        "platform": self._chat.name,
                        "platform_removes_posts": removable,
                    },
                ),
            )
