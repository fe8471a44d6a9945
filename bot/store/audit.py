"""Rows of the audit trail (``bot.audit`` chains and checks them)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.chain import ChainedRows
from bot.store.sql import Connection


@dataclass(frozen=True)
class AuditRow:
    """One privileged action; every column but ``hash`` goes into ``hash``."""

    id: int
    time: str
    action: str
    actor: str
    subject: str | None
    reason: str | None
    details: str
    prev_hash: str
    hash: str


AUDIT_COLUMNS = (
    "id",
    "time",
    "action",
    "actor",
    "subject",
    "reason",
    "details",
    "prev_hash",
    "hash",
)


def audit_log(conn: Connection) -> ChainedRows[AuditRow]:
    return ChainedRows(conn, "audit_log", AUDIT_COLUMNS, AuditRow)
