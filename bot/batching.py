"""Combining customer messages that wait in the queue into one chat post.

A platform that is paced (Slack: about one post per second per channel) falls behind when
customers write faster than that. Rather than letting lines pile up or drop, the inbound
job first waits for its posting slot (``ChatPlatform.ready_to_post``), then takes the
customer messages queued directly behind it in the same conversation along ("riders"):
one post, lines in order, each rendered and masked on its own. Choosing riders after the
wait, not before, lets every post carry what arrived while it waited. The queue is the
conversation's (``bot.job_catalog.number_lane``): what the customer writes meanwhile to
another business number waits in that conversation's queue and combines there. A platform
opts in by declaring ``Capabilities(paced=True, combine_waiting=n)``; others keep one post
per message.

Idempotency: riders are chosen on a job's first attempt and become durable by being
assigned to the conversation in the same transaction. A retry takes exactly those riders
again and never new ones, because its first attempt may have posted already under the same
key, without them. Riders record ``<post id>#<n>`` as their chat id (chat ids are unique
per message).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.domain import RELATION_KINDS
from bot.ids import ChatMessageId, ThreadId
from bot.ports import ChatPlatform
from bot.routing import inbound_number
from bot.store import Tx
from bot.store.jobs import Job
from bot.store.messages import MessageRow
from bot.store.queue_view import QueueView

MAX_COMBINED_BODY_CHARS = 16_000
"""Stored bodies (JSON) of one combined post; keeps it far below Slack's 40,000 characters."""

OnJoin = Callable[[Tx, int], Awaitable[None]]


async def may_carry(tx: Tx, chat: ChatPlatform, job: Job, thread_open: bool) -> bool:
    """Whether riders are worth a look after the posting slot, asked while the head is
    taken in: on a platform that combines, when lines wait behind the job now, when its
    thread is still to be opened (an API call during which lines can queue), or on a retry
    (which must take the riders of its first attempt again). Else :func:`ready` skips the
    riders' transaction, a hand-off on every relayed line's way, unless the slot made the
    job wait."""
    if chat.capabilities.combine_waiting <= 1 or job.order_key is None:
        return False
    if not thread_open or job.attempts > 1:
        return True
    behind = QueueView(tx.conn).waiting_behind(job.order_key, job.id, job.kind, limit=1)
    return bool(await behind)


async def ready(chat: ChatPlatform, thread_id: ThreadId, *, may_carry: bool) -> int:
    """Wait for the platform's posting slot; returns how many messages one post may carry.

    1 when the platform does not combine (nothing is waited for here), and when nothing may
    ride (``may_carry``, from :func:`may_carry` at the take-in) and the slot came without a
    wait: no riders to look for, so no transaction to look in. A line queued in the moment
    between is posted on its own, right after.
    """
    limit = chat.capabilities.combine_waiting
    if limit <= 1:
        return 1
    waited = await chat.ready_to_post(thread_id)
    return limit if waited or may_carry else 1


async def riders(
    tx: Tx, job: Job, head: MessageRow, conversation_id: int, *, limit: int, on_join: OnJoin
) -> list[MessageRow]:
    """The messages that share ``head``'s post, oldest first (see module docstring).

    A newly taken rider is assigned to the conversation and ``on_join`` runs for it (the
    bookkeeping its own job would have done), inside the caller's transaction.
    """
    if limit <= 1 or job.order_key is None:
        return []
    waiting = await QueueView(tx.conn).waiting_behind(
        job.order_key, job.id, job.kind, limit=limit - 1
    )
    taken: list[MessageRow] = []
    size = len(head.body or "")
    number = inbound_number(head.body, "")
    for message_id in waiting:
        row = await tx.messages.get(message_id)
        if row is None or row.body is None or row.chat_id is not None:
            break
        if row.kind in RELATION_KINDS:  # shown on the post it refers to (bot.mirror)
            break
        if row.conversation_id is None:
            if job.attempts > 1 or size + len(row.body) > MAX_COMBINED_BODY_CHARS:
                break
            if inbound_number(row.body, "") != number:  # queued before keys named the number
                break
            await tx.messages.assign(message_id, conversation_id)
            await on_join(tx, message_id)
        elif row.conversation_id != conversation_id:
            break
        size += len(row.body)
        taken.append(row)
    return taken


def combine(lines: list[str]) -> str:
    """One post for several customer messages: one line (or paragraph) each, in order."""
    return "\n".join(lines)


def rider_chat_id(post: ChatMessageId, index: int) -> ChatMessageId:
    return ChatMessageId(f"{post}#{index}")


async def record(tx: Tx, taken: list[MessageRow], post: ChatMessageId) -> None:
    for index, row in enumerate(taken, 1):
        await tx.messages.set_chat_id(row.id, rider_chat_id(post, index))
