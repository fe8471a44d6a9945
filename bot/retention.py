"""The daily retention purge (Art. 5(1)(e)): deletes from the store what ``[retention]``
says is due, in bounded batches.

A run is a chain of ``retention.purge`` jobs. Each job does ONE batch in ONE transaction:
the deletions, the run's progress (``retention_runs``: phase, cursor, counts, step) and the
job for the next batch are committed together. A crash anywhere leaves either the batch
done and its successor queued, or neither; a job that runs twice (its lease ran out after
the commit) finds the run already past its step and does nothing. Every batch is short
(``BATCH`` rows), and the batches are separate jobs, so a purge of 100k messages takes its
turns with the intake and the relay instead of blocking them.

Phases, in order: message bodies older than ``messages``; media older than ``media``;
closed conversations older than ``closed_conversations`` as a whole (messages, receipts,
case links, timers); contacts with nothing left and no activity for ``contacts``.
Conversations on legal hold (``!hold``) and anything a queued or dead-lettered job refers
to are skipped. When the run is done its
counts go to the audit trail (``retention.purge``) and the next run is queued a day later.

The chat: a removed conversation's thread is removed from Slack or Matrix by a
``chat.remove`` job enqueued in the batch that deletes the conversation (``bot.chat_removal``:
the bot's posts go, agents' replies where the platform lets the bot, and the root says why);
the run counts these as ``chat_threads_queued``, and each job's audit row says what had to
stay. On a platform without ``Capabilities.redaction`` the thread stays and is counted as
``chat_threads_not_redacted``. The posts that showed the bodies blanked in a conversation
that stays go the same way, a ``chat.remove_posts`` job per ``POSTS_PER_JOB`` queued in the
batch that blanks them (``chat_posts_queued``; agents' replies the bot may not remove are
``chat_posts_kept``). A customer's file is a post of its own (``bot.store.media_posts``)
and goes with the line that described it.

``[retention] media`` is a phase of its own between the bodies and the conversations: a
message older than it loses its media reference (``media_references``: WhatsApp's media id,
so nothing can fetch the file again), the post showing its file leaves the chat the same
way, and a copy kept under ``[media] keep_days`` is deleted (``media_copies``, also when
bodies go first).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from bot.audit import BOT_ACTOR, AuditEntry, record
from bot.config.retention import RetentionSection
from bot.job_catalog import (
    CHAT_REMOVE,
    CHAT_REMOVE_POSTS,
    RETENTION_PURGE,
    PurgeJob,
    RemovePostsJob,
    RemoveThreadJob,
    enqueue,
)
from bot.media.keep import kept_folder, remove_copies
from bot.ports import ChatPlatform, PostRef
from bot.routing import GLOBAL_ROOM, ChatTarget, Rooms, chatting_at, chatting_in
from bot.store import Store, Tx
from bot.store.conversations import ConversationRow
from bot.store.jobs import Job
from bot.store.retention import RunRow

log = logging.getLogger("empfang.retention")

BATCH = 500
"""Rows one batch touches at most: a few milliseconds of SQLite time."""
POSTS_PER_JOB = 50
"""Posts one ``chat.remove_posts`` job removes: a few redactions each, well inside a job's
lease even when the platform's rate limit slows them down."""
DAILY = 86_400.0


class RetentionPurge:
    def __init__(
        self,
        store: Store,
        policy: RetentionSection,
        chat: ChatPlatform,
        *,
        batch: int = BATCH,
        rooms: Rooms | None = None,
    ) -> None:
        """``rooms``: where conversations' threads are, when numbers have rooms of their
        own (posts are removed per room); None for the one global room."""
        self._store = store
        self._policy = policy
        self._chat = chat
        self._batch_size = batch
        self._rooms = rooms if rooms is not None and not rooms.single else None
        self._kept = kept_folder(store.path)

    async def ensure_scheduled(self) -> None:
        """At start: resume an unfinished run, or start one now when none is queued."""
        async with self._store.transaction() as tx:
            if await tx.jobs.listing(state="pending", kind=RETENTION_PURGE.name, limit=1):
                return
            unfinished = await tx.retention.unfinished()
            if unfinished is not None:
                scheduled_for, step = unfinished
                await enqueue(tx, RETENTION_PURGE, PurgeJob(scheduled_for=scheduled_for, step=step))
            else:
                now = tx.clock.now()
                await enqueue(tx, RETENTION_PURGE, PurgeJob(scheduled_for=now, step=0))

    async def run_batch(self, job: Job, payload: PurgeJob) -> None:
        """``retention.purge``: one batch of the run ``payload`` belongs to."""
        async with self._store.transaction() as tx:
            run = await tx.retention.run(payload.scheduled_for, now=tx.clock.now())
            if run.finished_at is not None or run.step != payload.step:
                return  # this batch was committed before: its successor is queued
            run = await self._batch(tx, run)
            if run.phase == "done":
                run = replace(run, finished_at=tx.clock.now())
                await self._finish(tx, run)
            else:
                successor = PurgeJob(scheduled_for=run.scheduled_for, step=run.step)
                await enqueue(tx, RETENTION_PURGE, successor)
            await tx.retention.save(run)
        if run.finished_at is not None:
            log.info("retention purge finished: %s", run.counts)

    async def _batch(self, tx: Tx, run: RunRow) -> RunRow:
        now = run.started_at
        counts = dict(run.counts)
        step = run.step + 1
        if run.phase == "messages":
            blanked, cursor = await tx.retention.blank_bodies(
                after=run.cursor, before=now - self._policy.messages, limit=self._batch_size
            )
            _add(counts, "message_bodies", len(blanked))
            closed_before = now - self._policy.closed_conversations
            for target, ids in (await self._by_room(tx, blanked)).items():
                posts = await tx.retention.posts_of_blanked(ids, closed_before=closed_before)
                posts += await self._file_posts(tx, ids, closed_before, counts)
                await self._remove_posts(tx, posts, counts, target)
            if len(blanked) == self._batch_size:
                return replace(run, step=step, cursor=cursor, counts=counts)
            return replace(run, step=step, phase="media", cursor=0, counts=counts)
        if run.phase == "media":
            blanked, cursor = await tx.retention.blank_media(
                after=run.cursor, before=now - self._policy.media, limit=self._batch_size
            )
            _add(counts, "media_references", len(blanked))
            closed_before = now - self._policy.closed_conversations
            for target, ids in (await self._by_room(tx, blanked)).items():
                posts = await self._file_posts(tx, ids, closed_before, counts)
                await self._remove_posts(tx, posts, counts, target)
            phase = "media" if len(blanked) == self._batch_size else "conversations"
            return replace(run, step=step, phase=phase, cursor=cursor, counts=counts)
        if run.phase == "conversations":
            due = await tx.retention.due_conversation(
                closed_before=now - self._policy.closed_conversations
            )
            if due is None:
                return replace(run, step=step, phase="contacts", counts=counts)
            deleted = await tx.retention.delete_messages_of(due.id, limit=self._batch_size)
            _add(counts, "messages_deleted", deleted)
            if deleted < self._batch_size:
                conversation = await tx.conversations.get(due.id)
                await tx.retention.delete_conversation(due.id, due.contact_id, due.last_activity)
                _add(counts, "conversations", 1)
                if conversation is not None and conversation.thread_id is not None:
                    _add(counts, await self._remove_thread(tx, conversation), 1)
            return replace(run, step=step, counts=counts)
        done = await tx.retention.delete_inactive_contacts(
            inactive_since=now - self._policy.contacts, limit=self._batch_size
        )
        _add(counts, "contacts", done)
        phase = "contacts" if done == self._batch_size else "done"
        return replace(run, step=step, phase=phase, counts=counts)

    async def _file_posts(
        self, tx: Tx, blanked: list[int], closed_before: float, counts: dict[str, int]
    ) -> list[PostRef]:
        """The posts showing the files of ``blanked`` (``relay.media``), and their kept
        copies (``[media] keep_days``) deleted: what showed or held the file goes with
        what described it. A rerun of the batch finds the copies gone already."""
        posts = await tx.media_posts.of(blanked, closed_before=closed_before)
        await tx.media_posts.forget(blanked)
        copies = await asyncio.to_thread(remove_copies, self._kept, blanked)
        _add(counts, "media_copies", copies)
        return posts

    async def _by_room(self, tx: Tx, blanked: list[int]) -> dict[ChatTarget, list[int]]:
        """The blanked messages by the room their conversation's thread is in: a job
        removes posts of one room."""
        if self._rooms is None:
            return {GLOBAL_ROOM: blanked}
        rooms: dict[ChatTarget, list[int]] = {}
        where: dict[int, ChatTarget] = {}
        for message_id in blanked:
            row = await tx.messages.get(message_id)
            target = GLOBAL_ROOM
            if row is not None and row.conversation_id is not None:
                if row.conversation_id not in where:
                    conversation = await tx.conversations.get(row.conversation_id)
                    where[row.conversation_id] = (
                        self._rooms.of(conversation) if conversation is not None else GLOBAL_ROOM
                    )
                target = where[row.conversation_id]
            rooms.setdefault(target, []).append(message_id)
        return rooms

    async def _remove_thread(self, tx: Tx, conversation: ConversationRow) -> str:
        """Queue the thread's removal from the chat if the platform can; the count it adds to."""
        assert conversation.thread_id is not None
        with chatting_in(conversation.chat_room, platform=conversation.chat_platform):
            if not self._chat.capabilities.redaction:
                return "chat_threads_not_redacted"
        job = RemoveThreadJob(
            thread_id=conversation.thread_id,
            why="retention",
            platform=conversation.chat_platform,
            room=conversation.chat_room,
        )
        await enqueue(tx, CHAT_REMOVE, job)
        return "chat_threads_queued"

    async def _remove_posts(
        self, tx: Tx, posts: list[PostRef], counts: dict[str, int], target: ChatTarget
    ) -> None:
        """Queue the removal of posts (of one room) whose bodies this batch blanked,
        ``POSTS_PER_JOB`` to a job; count what the platform will not let the bot remove
        (agents' replies without the power to, anything on a platform without redaction)."""
        with chatting_at(target):
            capabilities = self._chat.capabilities
        if not capabilities.redaction:
            _add(counts, "chat_posts_kept", len(posts))
            return
        for start in range(0, len(posts), POSTS_PER_JOB):
            chunk = tuple(posts[start : start + POSTS_PER_JOB])
            job = RemovePostsJob(posts=chunk, platform=target.platform, room=target.room)
            await enqueue(tx, CHAT_REMOVE_POSTS, job)
        kept = 0 if capabilities.redacts_others else sum(not post.by_bot for post in posts)
        _add(counts, "chat_posts_queued", len(posts) - kept)
        _add(counts, "chat_posts_kept", kept)

    async def _finish(self, tx: Tx, run: RunRow) -> None:
        details: dict[str, int | float | bool | str | None] = {
            "message_bodies": 0,
            "media_references": 0,
            "media_copies": 0,
            "messages_deleted": 0,
            "conversations": 0,
            "contacts": 0,
            "chat_threads_queued": 0,
            "chat_threads_not_redacted": 0,
            "chat_posts_queued": 0,
            "chat_posts_kept": 0,
            **run.counts,
            "agents_replies_removable": self._chat.capabilities.redacts_others,
            "held_conversations": await tx.retention.held(),
            "batches": run.step,
        }
        await record(tx, AuditEntry("retention.purge", BOT_ACTOR, details=details))
        # A day after this run started: when the bot was down for longer, the missed days
        # are not caught up one by one, as this run purged everything due by its start.
        next_run = PurgeJob(scheduled_for=run.started_at + DAILY, step=0)
        delay = max(0.0, next_run.scheduled_for - tx.clock.now())
        await enqueue(tx, RETENTION_PURGE, next_run, delay=delay)


def _add(counts: dict[str, int], key: str, amount: int) -> None:
    counts[key] = counts.get(key, 0) + amount
