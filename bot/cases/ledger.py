"""The transfer ledger: one hash-chained row per transfer to a case system (privacy.md item 16).

A row is written ONCE, when the transfer's outcome is final (delivered, or dead-lettered after
its last attempt), and never updated: updating a row in place would need its hash and every
later hash recomputed, which is exactly what tampering looks like. In-flight transfers are
visible in the job queue instead, with their attempts so far.

Each row's ``hash`` is SHA-256 over the canonical JSON of all its other columns, including
``prev_hash`` (the previous row's hash; 64 zeros for the first row). Canonical JSON: keys
sorted, no whitespace, UTF-8 without escaping. Ids come from AUTOINCREMENT and are never
reused, so a deleted row leaves a gap, and a deleted tail leaves the sequence ahead of the
last row. A chain can be recomputed by someone with write access to the database; the head
hash printed by ``verify`` (and included in exports) is what to record elsewhere to detect that.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Literal, TextIO

from bot.cases.model import utc_iso
from bot.store import Tx
from bot.store.cases import LEDGER_COLUMNS, LedgerRow

GENESIS_HASH = "0" * 64
EXPORT_SCHEMA = "empfang.transfer-ledger/1"

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
    fields = {name: getattr(row, name) for name in LEDGER_COLUMNS if name != "hash"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


async def append(tx: Tx, entry: LedgerEntry) -> LedgerRow | None:
    """Chain ``entry`` onto the ledger in ``tx``; None if this transfer is logged already
    (a job that ran again after a crash between logging and completing)."""
    if await tx.cases.ledger_has(entry.transfer_id):
        return None
    next_id, last_hash = await tx.cases.ledger_head()
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
        prev_hash=last_hash or GENESIS_HASH,
        hash="",
    )
    row = replace(draft, hash=row_hash(draft))
    await tx.cases.insert_ledger(row)
    return row


@dataclass(frozen=True)
class Verdict:
    """The result of checking the chain; ``bad_row`` is the first row that fails."""

    rows: int
    head: str
    bad_row: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.bad_row is None


def verify(rows: Sequence[LedgerRow], sequence: int) -> Verdict:
    """Check ids, hashes and links of ``rows`` (all of them, in id order).

    ``sequence`` is the highest id ever given out; rows missing at the end show there.
    """
    previous: LedgerRow | None = None
    for expected_id, row in enumerate(rows, start=1):
        if row.id != expected_id:
            return _bad(rows, expected_id, f"row {expected_id} is missing (deleted)")
        if row_hash(row) != row.hash:
            return _bad(rows, row.id, f"row {row.id} was altered: its hash does not match")
        if previous is None and row.prev_hash != GENESIS_HASH:
            return _bad(rows, row.id, f"row {row.id} was altered: it does not start the chain")
        if previous is not None and row.prev_hash != previous.hash:
            return _bad(
                rows,
                previous.id,
                f"row {previous.id} was altered and re-hashed: row {row.id} does not chain to it",
            )
        previous = row
    if sequence > len(rows):
        first_missing = len(rows) + 1
        return _bad(
            rows, first_missing, f"rows {first_missing} to {sequence} are missing (deleted)"
        )
    return Verdict(rows=len(rows), head=previous.hash if previous else GENESIS_HASH)


def _bad(rows: Sequence[LedgerRow], bad_row: int, problem: str) -> Verdict:
    head = rows[-1].hash if rows else GENESIS_HASH
    return Verdict(rows=len(rows), head=head, bad_row=bad_row, problem=problem)


def write_csv(rows: Sequence[LedgerRow], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LEDGER_COLUMNS)
    for row in rows:
        writer.writerow(["" if value is None else value for value in _values(row)])


def write_json(rows: Sequence[LedgerRow], out: TextIO, *, since: str, verdict: Verdict) -> None:
    document = {
        "schema": EXPORT_SCHEMA,
        "since": since,
        "chain_verified": verdict.ok,
        "chain_head": verdict.head,
        "rows": [asdict(row) for row in rows],
    }
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")


def _values(row: LedgerRow) -> list[object]:
    return [getattr(row, name) for name in LEDGER_COLUMNS]
