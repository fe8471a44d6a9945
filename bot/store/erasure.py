"""What ``empfang privacy erase`` deletes (Art. 17): one person's rows in every table that
holds them, and the queued jobs about them.

Keyed by the person's contact, conversation and message ids, never by a text search, as the
export is (``bot.store.subject``). The transfer ledger and the audit trail keep their rows:
they hold the pseudonym only, are hash-chained records of accountability (Art. 5(2)), and a
deleted row would break their chains; the erasure report says so.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.sql import Connection, marks


@dataclass(frozen=True)
class CaseLinkFacts:
    """Where one of the person's conversations lives in one case system."""

    conversation_id: int
    sink: str
    case_id: str | None
    label: str | None
    thread: tuple[str, ...]


class ErasureStore:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def case_links(self, conversation_ids: Sequence[int]) -> list[CaseLinkFacts]:
        rows = await self._conn.fetchall(
            "SELECT conversation_id, sink, case_id, case_label, thread FROM case_links"
            f" WHERE conversation_id IN ({marks(conversation_ids)})"
            " ORDER BY conversation_id, sink",
            tuple(conversation_ids),
        )
        return [
            CaseLinkFacts(int(r[0]), str(r[1]), r[2], r[3], tuple(json.loads(r[4]))) for r in rows
        ]

    async def cancel_jobs(
        self, contacts: Sequence[int], conversations: Sequence[int], messages: Sequence[int]
    ) -> Counter[str]:
        """Delete every job (pending or dead-lettered) about the person; how many per kind.
        Jobs name them by ``contact_id``, ``conversation_id`` or ``message_id``."""
        refs = (
            ("contact_id", contacts),
            ("conversation_id", conversations),
            ("message_id", messages),
        )
        dialect = self._conn.dialect
        about = " OR ".join(
            f"{dialect.json_int('payload', field)} IN ({marks(ids)})" for field, ids in refs if ids
        )
        args = tuple(i for _, ids in refs for i in ids)
        # CASE, not AND: PostgreSQL may read the payload before it checked json_valid.
        rows = await self._conn.fetchall(
            f"SELECT id, kind FROM jobs WHERE CASE WHEN json_valid(payload) THEN ({about})"
            " ELSE FALSE END",
            args,
        )
        found = [(int(row[0]), str(row[1])) for row in rows]
        if found:
            ids = [job_id for job_id, _ in found]
            await self._conn.execute(f"DELETE FROM jobs WHERE id IN ({marks(ids)})", ids)
        return Counter(kind for _, kind in found)

    async def delete_person(
        self, contacts: Sequence[int], conversations: Sequence[int]
    ) -> dict[str, int]:
        """The person's rows, children first; how many went from each table."""
        people, convs = marks(contacts), marks(conversations)
        statements = [
            (
                "delivery_receipts",
                "DELETE FROM status_events WHERE provider_id IN (SELECT provider_id FROM"
                f" messages WHERE contact_id IN ({people}) AND provider_id IS NOT NULL)",
                contacts,
            ),
            ("messages", f"DELETE FROM messages WHERE contact_id IN ({people})", contacts),
        ]
        if conversations:
            statements += [
                (table, f"DELETE FROM {table} WHERE conversation_id IN ({convs})", conversations)
                for table in ("sla_timers", "auto_replies", "case_links", "legal_holds")
            ]
            statements.append(
                (
                    "conversations",
                    f"DELETE FROM conversations WHERE id IN ({convs})",
                    conversations,
                )
            )
        statements.append(("contacts", f"DELETE FROM contacts WHERE id IN ({people})", contacts))
        counts: dict[str, int] = {}
        for name, sql, args in statements:
            counts[name] = await self._conn.execute(sql, tuple(args))
        return counts
