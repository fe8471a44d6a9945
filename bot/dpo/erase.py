"""Erasing one person (Art. 17): ``empfang privacy erase <pseudonym|+number> --reason …``.

One transaction removes the person from the store (contact, conversations, messages with
their media metadata, delivery receipts, case links, timers), cancels every queued job about
them (sends to them included) and, in the same transaction, queues what only the running
bot can do, because this command runs beside it without a chat connection or case-system
clients: a ``chat.remove`` job per thread (``bot.chat_removal``; the customer's files posted
into it go with it: Matrix redacts their events, Slack deletes the files) and a ``case.erased`` job
per case a case system holds for them (``bot.cases.hooks``). Copies of their files kept
under ``[media] keep_days`` are deleted in the transaction too. Then the audit row
(``privacy.erase``: pseudonym, reason, counts). What erasure cannot reach is reported, with
the reason, never hidden: agents' replies the chat platform keeps, copies the case systems
hold until their operators act, the pseudonym in the two accountability records.

A conversation on legal hold blocks the whole erasure (Art. 17(3)(e)): nothing is erased
until ``!release``. A second run finds no contact and says nothing is left; a later
message from the same number starts a new contact with nothing of the old one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.audit import AuditEntry, record
from bot.dpo.export import Subject
from bot.job_catalog import (
    CASE_ERASED,
    CHAT_REMOVE,
    RELAY_OUTBOUND,
    ErasedCaseJob,
    RemoveThreadJob,
    enqueue,
)
from bot.media.keep import remove_copies
from bot.store import Tx
from bot.store.erasure import ErasureStore


@dataclass(frozen=True)
class Erasure:
    """What one erasure did and did not do; ``pseudonyms`` is empty when nothing was left."""

    subject: str
    pseudonyms: tuple[str, ...] = ()
    held: tuple[int, ...] = ()
    """Conversations on legal hold: nothing was erased."""
    deleted: dict[str, int] = field(default_factory=dict)
    jobs_cancelled: dict[str, int] = field(default_factory=dict)
    threads_queued: int = 0
    media_copies: int = 0
    """Copies of their files kept under ``[media] keep_days``, deleted."""
    cases_notified: tuple[tuple[str, str], ...] = ()
    """(``sink, case …``, the sink's type) for each ``case.erased`` job queued."""
    cases_unreachable: tuple[str, ...] = ()
    """Cases in a case system that is no longer configured: nobody can be told."""


async def erase_subject(
    tx: Tx,
    subject: Subject,
    actor: str,
    reason: str,
    sinks: Mapping[str, str],
    *,
    kept: Path | None = None,
) -> Erasure:
    """Erase ``subject`` in ``tx``; ``sinks`` are the configured case systems, name → type;
    ``kept`` the folder of kept media copies (``bot.media.keep.kept_folder``)."""
    contacts = await tx.subjects.contacts(pseudonym=subject.pseudonym, wa_id=subject.wa_id)
    if not contacts:
        return Erasure(str(subject))
    pseudonyms = tuple(sorted({contact.pseudonym for contact in contacts}))
    conversations = [c for contact in contacts for c in await tx.subjects.conversations(contact.id)]
    held = tuple([c.id for c in conversations if await tx.holds.get(c.id) is not None])
    if held:
        return Erasure(str(subject), pseudonyms, held=held)
    messages = [m.id for contact in contacts for m in await tx.subjects.messages(contact.id)]
    contact_ids = [contact.id for contact in contacts]
    conversation_ids = [c.id for c in conversations]
    store = ErasureStore(tx.conn)
    links = await store.case_links(conversation_ids)
    cancelled = await store.cancel_jobs(contact_ids, conversation_ids, messages)
    deleted = await store.delete_person(contact_ids, conversation_ids)
    copies = await asyncio.to_thread(remove_copies, kept, messages) if kept is not None else 0

    pseudonym_of = {contact.id: contact.pseudonym for contact in contacts}
    threads = 0
    for conversation in conversations:
        if conversation.thread_id is not None:
            job = RemoveThreadJob(
                thread_id=conversation.thread_id,
                why="erasure",
                subject=pseudonym_of[conversation.contact_id],
                platform=conversation.chat_platform,
                room=conversation.chat_room,
            )
            await enqueue(tx, CHAT_REMOVE, job)
            threads += 1
    notified: list[tuple[str, str]] = []
    unreachable: list[str] = []
    opened = {c.id: c for c in conversations}
    for link in links:
        case = link.label or link.case_id or f"for conversation {link.conversation_id}"
        where = f"{link.sink}, case {case}"
        if link.sink not in sinks:
            unreachable.append(where)
            continue
        conversation = opened[link.conversation_id]
        request = ErasedCaseJob(
            transfer_id=uuid.uuid4().hex,
            sink=link.sink,
            conversation_id=link.conversation_id,
            requester=pseudonym_of[conversation.contact_id],
            case_id=link.case_id,
            label=link.label,
            thread=link.thread,
            opened_at=conversation.opened_at,
        )
        await enqueue(tx, CASE_ERASED, request)
        notified.append((where, sinks[link.sink]))

    erasure = Erasure(
        str(subject),
        pseudonyms,
        deleted=deleted,
        jobs_cancelled=dict(sorted(cancelled.items())),
        threads_queued=threads,
        media_copies=copies,
        cases_notified=tuple(notified),
        cases_unreachable=tuple(unreachable),
    )
    details: dict[str, int | float | bool | str | None] = {
        **{f"deleted_{table}": count for table, count in deleted.items()},
        "jobs_cancelled": sum(cancelled.values()),
        "sends_cancelled": cancelled.get(RELAY_OUTBOUND.name, 0),
        "chat_threads_queued": threads,
        "media_copies": copies,
        "case_systems_notified": len(notified),
        "case_systems_unreachable": len(unreachable),
    }
    for pseudonym in pseudonyms:
        await record(tx, AuditEntry("privacy.erase", actor, pseudonym, reason, details))
    return erasure


def report(erasure: Erasure) -> str:
    """What the command prints: what was erased where, and what could not be, and why."""
    if not erasure.pseudonyms:
        return f"nothing left to erase: no contact {erasure.subject} in the store\n"
    names = ", ".join(erasure.pseudonyms)
    if erasure.held:
        held = ", ".join(str(c) for c in erasure.held)
        return (
            f"NOT erased {names}: conversation {held} is on legal hold (Art. 17(3)(e));"
            " release it with !release in its thread first. Nothing was changed.\n"
        )
    d = erasure.deleted
    lines = [
        f"erased {names} (recorded in the audit trail, privacy.erase)",
        f"  store: {d.get('contacts', 0)} contact(s), {d.get('conversations', 0)} conversation(s),"
        f" {d.get('messages', 0)} message(s) with their media metadata,"
        f" {d.get('delivery_receipts', 0)} delivery receipt(s), {d.get('case_links', 0)} case"
        f" link(s), {d.get('sla_timers', 0) + d.get('auto_replies', 0)} timer(s)",
        f"  media: {erasure.media_copies} kept copy(ies) of their files deleted",
        _jobs_line(erasure.jobs_cancelled),
        f"  chat: {erasure.threads_queued} thread(s) queued for removal; the running bot"
        " removes them (empfang run must be running), each audited as chat.thread_removed",
    ]
    cases = [
        (where, _CASE_WORDS["archive" if kind == "jsonl" else "helpdesk"])
        for where, kind in erasure.cases_notified
    ]
    lines += [f"  case system {where}: {done}" for where, (done, _) in cases]
    lines += [
        "not erased:",
        "  chat: agents' replies in Slack (a bot may delete only its own messages), and in"
        " Matrix unless the bot is a moderator; chat.thread_removed counts them (posts_kept)",
        "  Synapse keeps redacted content for its redaction_retention_period",
    ]
    lines += [f"  case system {where}: {left}" for where, (_, left) in cases]
    for where in erasure.cases_unreachable:
        lines.append(f"  case system {where}: no longer configured, cannot be told; erase by hand")
    lines.append(
        "  transfer ledger and audit trail keep the pseudonym (accountability records,"
        " Art. 5(2), 17(3)(b)): no content, no number"
    )
    return "\n".join(lines) + "\n"


_CASE_WORDS = {
    "archive": (
        "the running bot removes its lines from the file",
        "copies of the file (rotated logs, backups)",
    ),
    "helpdesk": (
        "erasure request queued (sent by the running bot)",
        "its copy stays until the helpdesk erases it",
    ),
}
"""What the report says of a case system: (done, not done). The JSONL file is Empfang's own
archive and is rewritten; the others hold their own copy and are asked to erase it."""


def _jobs_line(cancelled: dict[str, int]) -> str:
    if not cancelled:
        return "  queue: no jobs about them"
    kinds = ", ".join(f"{count} {kind}" for kind, count in cancelled.items())
    sends = cancelled.get(RELAY_OUTBOUND.name, 0)
    return f"  queue: {sum(cancelled.values())} job(s) cancelled ({kinds}); {sends} send(s) to them"
