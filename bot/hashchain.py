"""Append-only tables whose rows are chained by SHA-256: the transfer ledger and the audit trail.

Each row's ``hash`` is SHA-256 over the canonical JSON of all its other columns, including
``prev_hash`` (the previous row's hash; 64 zeros for the first row). Canonical JSON: keys
sorted, no whitespace, UTF-8 without escaping. Ids come from AUTOINCREMENT and are never
reused, so a deleted row leaves a gap, and a deleted tail leaves the sequence ahead of the
last row. A chain can be recomputed by someone with write access to the database; the head
hash printed by ``verify`` (and included in exports) is what to record elsewhere to detect that.

One implementation serves every chained table, so a fix to verification reaches all of them.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol, TextIO, TypeVar

from bot.store.chain import GENESIS_HASH

__all__ = ["GENESIS_HASH", "ChainRow", "Verdict", "row_hash", "seal", "verify"]


class ChainRow(Protocol):
    """A row of a chained table: a frozen dataclass with at least these fields."""

    @property
    def id(self) -> int: ...

    @property
    def prev_hash(self) -> str: ...

    @property
    def hash(self) -> str: ...


Row = TypeVar("Row", bound=ChainRow)


def row_hash(row: ChainRow, columns: Sequence[str]) -> str:
    fields = {name: getattr(row, name) for name in columns if name != "hash"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def seal(draft: Row, columns: Sequence[str]) -> Row:
    """``draft`` (with any ``hash``) with its hash filled in."""
    sealed: Row = replace(draft, hash=row_hash(draft, columns))  # type: ignore[type-var]
    return sealed


@dataclass(frozen=True)
class Verdict:
    """The result of checking a chain; ``bad_row`` is the first row that fails."""

    rows: int
    head: str
    bad_row: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.bad_row is None


def verify(rows: Sequence[ChainRow], sequence: int, columns: Sequence[str]) -> Verdict:
    """Check ids, hashes and links of ``rows`` (all of them, in id order).

    ``sequence`` is the highest id ever given out; rows missing at the end show there.
    """
    previous: ChainRow | None = None
    for expected_id, row in enumerate(rows, start=1):
        if row.id != expected_id:
            return _bad(rows, expected_id, f"row {expected_id} is missing (deleted)")
        if row_hash(row, columns) != row.hash:
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


def _bad(rows: Sequence[ChainRow], bad_row: int, problem: str) -> Verdict:
    head = rows[-1].hash if rows else GENESIS_HASH
    return Verdict(rows=len(rows), head=head, bad_row=bad_row, problem=problem)


def write_csv(rows: Sequence[ChainRow], columns: Sequence[str], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = (getattr(row, name) for name in columns)
        writer.writerow(["" if value is None else value for value in values])


def write_json(
    rows: Sequence[ChainRow], out: TextIO, *, schema: str, since: str, verdict: Verdict
) -> None:
    document = {
        "schema": schema,
        "since": since,
        "chain_verified": verdict.ok,
        "chain_head": verdict.head,
        "rows": [_as_dict(row) for row in rows],
    }
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")


def _as_dict(row: ChainRow) -> dict[str, Any]:
    return asdict(row)  # type: ignore[call-overload, no-any-return]
