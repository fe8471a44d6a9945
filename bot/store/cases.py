"""Case links (conversation ↔ external case per sink) and the transfer ledger's rows.

The hash chain itself is computed in ``bot.cases.ledger``; this module only stores and reads
rows. The ledger is append-only by convention of this code: nothing here updates or deletes
a ledger row, and ``empfang ledger verify`` shows whether anyone else did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.store.chain import ChainedRows
from bot.store.sql import Connection


@dataclass(frozen=True)
class CaseLinkRow:
    conversation_id: int
    sink: str
    case_id: str | None
    case_label: str | None
    thread: tuple[str, ...]
    last_transfer: str | None
    closed: bool
    linked_by: str | None
    updated_at: float


@dataclass(frozen=True)
class LedgerRow:
    """One transfer's final outcome; every column but ``hash`` goes into ``hash``."""

    id: int
    transfer_id: str
    time: str
    pseudonym: str
    sink: str
    case_id: str | None
    event: str
    categories: str
    outcome: str
    attempts: int
    prev_hash: str
    hash: str


_LINK_COLUMNS = (
    "conversation_id, sink, case_id, case_label, thread, last_transfer, closed, linked_by,"
    " updated_at"
)
_LINK_UPDATE = ", ".join(
    f"{column} = excluded.{column}" for column in _LINK_COLUMNS.replace(" ", "").split(",")[2:]
)
LEDGER_COLUMNS = (
    "id",
    "transfer_id",
    "time",
    "pseudonym",
    "sink",
    "case_id",
    "event",
    "categories",
    "outcome",
    "attempts",
    "prev_hash",
    "hash",
)


def _link(row: Any) -> CaseLinkRow:
    return CaseLinkRow(
        int(row[0]),
        str(row[1]),
        row[2],
        row[3],
        tuple(json.loads(row[4])),
        row[5],
        bool(row[6]),
        row[7],
        float(row[8]),
    )


class Cases:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.ledger = ChainedRows(conn, "transfer_ledger", LEDGER_COLUMNS, LedgerRow)
        """The transfer ledger's rows (``bot.cases.ledger`` chains them)."""

    # -- case links ---------------------------------------------------------------------------

    async def link(self, conversation_id: int, sink: str) -> CaseLinkRow | None:
        row = await self._conn.fetchone(
            f"SELECT {_LINK_COLUMNS} FROM case_links WHERE conversation_id = ? AND sink = ?",
            (conversation_id, sink),
        )
        return _link(row) if row else None

    async def save_link(self, link: CaseLinkRow) -> None:
        """Insert or replace the link of (conversation, sink)."""
        await self._conn.execute(
            f"INSERT INTO case_links ({_LINK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT (conversation_id, sink) DO UPDATE SET {_LINK_UPDATE}",
            (
                link.conversation_id,
                link.sink,
                link.case_id,
                link.case_label,
                json.dumps(list(link.thread)),
                link.last_transfer,
                int(link.closed),
                link.linked_by,
                link.updated_at,
            ),
        )

    async def backlog(self, order_key: str) -> tuple[int, int]:
        """(pending, dead-lettered) transfer jobs of one conversation and sink, for ``!case``."""
        row = await self._conn.fetchone(
            "SELECT coalesce(sum(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0)"
            " FROM jobs WHERE order_key = ?",
            (order_key,),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    # -- transfer ledger ----------------------------------------------------------------------

    async def ledger_has(self, transfer_id: str) -> bool:
        return (
            await self._conn.fetchone(
                "SELECT 1 FROM transfer_ledger WHERE transfer_id = ?", (transfer_id,)
            )
            is not None
        )
