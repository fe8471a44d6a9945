"""The intake's hot path as plain SQL run on the database thread in one hand-off.

Every webhook delivery in a commit group needs the same three statements (contacts,
messages, jobs); issuing them through aiosqlite one by one costs a thread hand-off each,
which under load was the largest cost of ingest (``bench/ingest.py``). Here the whole
transaction runs in a single call on the database thread (see ``Store.run_sync``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from bot.domain import InboundMessage
from bot.store.messages import stored_body


@dataclass(frozen=True)
class NewContact:
    """A sender known by ``wa_id``, with what is stored for a contact seen first."""

    wa_id: str
    pseudonym: str
    profile_name: str | None
    region: str | None


_MESSAGE_ROW = "('in', ?, ?, ?, ?, ?)"


def _values(row_template: str, rows: int) -> str:
    return ", ".join([row_template] * rows)


def store_inbound(
    conn: sqlite3.Connection,
    contacts: list[NewContact],
    messages: list[InboundMessage],
    *,
    now: float,
    job_kind: str,
    order_key: Callable[[int], str],
) -> set[str]:
    """Upsert contacts, insert messages (duplicates ignored) and one job per new message.

    Runs inside the caller's transaction; returns the provider ids that were new. Job
    payloads and order keys are exactly what ``Jobs.enqueue`` writes.
    """
    ids = dict(
        conn.execute(
            "INSERT INTO contacts (wa_id, pseudonym, profile_name, region, created_at,"
            f" last_inbound_at) VALUES {_values('(?, ?, ?, ?, ?, ?)', len(contacts))}"
            " ON CONFLICT (wa_id) DO UPDATE SET"
            " profile_name = coalesce(excluded.profile_name, profile_name),"
            " last_inbound_at = excluded.last_inbound_at RETURNING wa_id, id",
            [
                v
                for c in contacts
                for v in (c.wa_id, c.pseudonym, c.profile_name, c.region, now, now)
            ],
        ).fetchall()
    )
    new = sorted(
        conn.execute(
            "INSERT INTO messages (direction, contact_id, provider_id, kind, body, created_at)"
            f" VALUES {_values(_MESSAGE_ROW, len(messages))}"
            " ON CONFLICT (provider_id) DO NOTHING RETURNING id, contact_id, provider_id",
            [
                v
                for m in messages
                for v in (ids[m.sender.key], m.provider_id, m.kind.value, stored_body(m), now)
            ],
        ).fetchall()
    )
    if new:
        conn.execute(
            "INSERT INTO jobs (kind, payload, order_key, run_after, created_at)"
            f" VALUES {_values('(?, ?, ?, ?, ?)', len(new))}",
            [
                v
                for message_id, contact_id, _ in new
                for v in (
                    job_kind,
                    json.dumps({"message_id": message_id}, separators=(",", ":")),
                    order_key(contact_id),
                    now,
                    now,
                )
            ],
        )
    return {str(provider_id) for _, _, provider_id in new}
