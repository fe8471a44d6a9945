"""The transfer ledger: one hash-chained row per transfer to a case system (privacy.md item 16).

A row is written ONCE, when the transfer's outcome is final (delivered, or dead-lettered after
its last attempt), and never updated: updating a row in place would need its hash and every
later hash recomputed, which is exactly what tampering looks like. In-flight transfers are
visible in the job queue instead, with their attempts so far. How rows are chained and
checked is ``bot.hashchain``'s, shared with the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot import hashchain
from bot.cases.model import utc_iso
from bot.hashchain import GENESIS_HASH
from bot.store import Tx
from bot.store.cases import LEDGER_COLUMNS, LedgerRow

__all__ = ["GENESIS_HASH", "LedgerEntry", "Outcome", "append", "row_hash"]

Outcome = Literal["delivered", "dead_lettered"]


@dataclass(frozen=True)
class LedgerEntry:
    """What the transfer job knows about a finished transfer; chain fields are added here."""

    transfer_id: str
    pseudonym: str
    sink: str
    case_id: str | None
    event: str
    categories: tuple[str, ...]
    outcome: Outcome
    attempts: int


def row_hash(row: LedgerRow) -> str:
    return hashchain.row_hash(row, LEDGER_COLUMNS)


async def append(tx: Tx, entry: LedgerEntry) -> LedgerRow | None:
    """Chain ``entry`` onto the ledger in ``tx``; None if this transfer is logged already
    (a job that ran again after a crash between logging and completing)."""
    if await tx.cases.ledger_has(entry.transfer_id):
        return None
    next_id, last_hash = await tx.cases.ledger.head()
    draft = LedgerRow(
        id=next_id,
        transfer_id=entry.transfer_id,
        time=utc_iso(tx.clock.now()),
        pseudonym=entry.pseudonym,
        sink=entry.sink,
        case_id=entry.case_id,
        event=entry.event,
        categories=",".join(entry.categories),
        outcome=entry.outcome,
        attempts=entry.attempts,
        prev_hash=last_hash,
        hash="",
    )
    row = hashchain.seal(draft, LEDGER_COLUMNS)
    await tx.cases.ledger.insert(row)
    return row
