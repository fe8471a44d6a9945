"""The audit trail of privileged actions (privacy.md item 17; Art. 5(2), 33(5)).

Who revealed a number, exported or erased a person, purged, held or released a conversation,
objected, dropped a job; which configuration the bot started with; when webhook signatures
failed in a burst. One hash-chained row per action (``bot.hashchain``, as the transfer
ledger), so an edited or deleted row fails ``empfang audit verify``.

A row never holds message content or a number: the subject is a pseudonym, the details are
counts, kinds and hashes set by code, and the one free text, the reason an operator or agent
gives, is stored with anything that could be a number masked. A row is written in the same
transaction as the action it records, so there is no action without its row and no row for
an action that was rolled back.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot import hashchain
from bot.cases.model import utc_iso
from bot.config import Settings
from bot.logfilter import mask_log_text
from bot.store import Store, Tx
from bot.store.audit import AUDIT_COLUMNS, AuditRow

AuditAction = Literal[
    "config.start",
    "webhook.signature_failures",
    "number.reveal",
    "privacy.export",
    "privacy.erase",
    "privacy.objection",
    "privacy.objection_lifted",
    "retention.purge",
    "retention.hold",
    "retention.release",
    "chat.thread_removed",
    "chat.posts_removed",
    "job.drop",
]
"""Every action the trail knows; README "For the data-protection officer" lists them."""

BOT_ACTOR = "empfang"
"""The actor of what the bot does by itself (starting, purging, noticing a burst)."""

Detail = int | float | bool | str | None


@dataclass(frozen=True)
class AuditEntry:
    """What the caller knows about the action; time and chain fields are added here."""

    action: AuditAction
    actor: str
    subject: str | None = None
    """The pseudonym of the person concerned, when the action concerns one."""
    reason: str | None = None
    details: Mapping[str, Detail] = field(default_factory=dict)
    """Counts, kinds, ids and hashes: never content, never a number."""


def cli_actor() -> str:
    """The operator behind a command-line action, as the operating system knows them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry, e.g. an arbitrary container uid
        return "cli:unknown"


async def record(tx: Tx, entry: AuditEntry) -> AuditRow:
    """Chain ``entry`` onto the trail in ``tx`` (committed or rolled back with the action)."""
    next_id, last_hash = await tx.audit.head()
    draft = AuditRow(
        id=next_id,
        time=utc_iso(tx.clock.now()),
        action=entry.action,
        actor=entry.actor,
        subject=entry.subject,
        reason=None if entry.reason is None else mask_log_text(entry.reason),
        details=json.dumps(
            dict(entry.details), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ),
        prev_hash=last_hash,
        hash="",
    )
    row = hashchain.seal(draft, AUDIT_COLUMNS)
    await tx.audit.insert(row)
    return row


def row_hash(row: AuditRow) -> str:
    return hashchain.row_hash(row, AUDIT_COLUMNS)


def config_digest(settings: Settings) -> str:
    """SHA-256 of the effective configuration, file and environment merged.

    Secrets enter as their masked form: a plain hash of a short secret could be tabulated,
    and a secret's change is not what this digest is for (what the bot was told to do is).
    """
    canonical = settings.model_dump_json(round_trip=False)
    normalised = json.dumps(json.loads(canonical), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


async def record_start(store: Store, settings: Settings) -> None:
    """One row per start, with the configuration in force: which rules applied when."""
    async with store.transaction() as tx:
        await record(
            tx,
            AuditEntry(
                action="config.start",
                actor=BOT_ACTOR,
                details={"config_sha256": config_digest(settings)},
            ),
        )
