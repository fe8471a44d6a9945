"""The intake's hot path as plain SQL run on the database thread in one hand-off.

Every webhook delivery in a commit group needs the same three writes (contacts, messages,
jobs). Two things made them the bottleneck of ingest (``bench/ingest.py``):

- each awaited aiosqlite statement is a trip to the database thread and back, so the whole
  transaction runs in a single call there (see ``Store.run_sync``);
- Python's ``sqlite3`` releases and re-takes the GIL around every step of a statement, and
  under load each re-take waits for the event loop. A ``RETURNING`` row is one step, so
  rows are passed in as one JSON array (``json_each``) and new messages are found by id
  inside SQL: a group of any size costs the same handful of steps.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Set as AbstractSet
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


_UPSERT_CONTACTS = """
INSERT INTO contacts (wa_id, pseudonym, profile_name, region, created_at)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, :now
FROM json_each(:rows) WHERE true
ON CONFLICT (wa_id) DO UPDATE SET profile_name = excluded.profile_name
    WHERE excluded.profile_name IS NOT NULL AND excluded.profile_name IS NOT profile_name
"""

_LAST_MESSAGE_ID = "SELECT seq FROM sqlite_sequence WHERE name = 'messages'"

# Ordered by position in the array, so ids (and thereby jobs) follow arrival order.
_INSERT_MESSAGES = """
INSERT INTO messages (direction, contact_id, provider_id, kind, body, created_at)
SELECT 'in', contacts.id, rows.value ->> 1, rows.value ->> 2, rows.value ->> 3, :now
FROM json_each(:rows) AS rows JOIN contacts ON contacts.wa_id = rows.value ->> 0
WHERE true ORDER BY rows.key
ON CONFLICT (provider_id) DO NOTHING
"""

# The payload is what ``Jobs.enqueue`` writes: ``{"message_id":<id>}``.
_ENQUEUE_JOBS = """
INSERT INTO jobs (kind, payload, order_key, run_after, created_at)
SELECT :kind, json_object('message_id', id), :order_prefix || contact_id, :now, :now
FROM messages WHERE id > :after ORDER BY id
"""

_NEW_PROVIDER_IDS = "SELECT provider_id FROM messages WHERE id > ?"


@dataclass(frozen=True)
class InboundRows:
    """A commit group's contacts and messages as JSON arrays for ``json_each``.

    Built on the event loop, so the database thread, which every commit waits for, only
    runs SQL.
    """

    contacts: str
    messages: str
    provider_ids: frozenset[str]
    count: int

    @classmethod
    def build(cls, contacts: list[NewContact], messages: list[InboundMessage]) -> InboundRows:
        return cls(
            contacts=json.dumps(
                [[c.wa_id, c.pseudonym, c.profile_name, c.region] for c in contacts]
            ),
            messages=json.dumps(
                [[m.sender.key, m.provider_id, m.kind.value, stored_body(m)] for m in messages]
            ),
            provider_ids=frozenset(m.provider_id for m in messages),
            count=len(messages),
        )


def store_inbound(
    conn: sqlite3.Connection,
    rows: InboundRows,
    *,
    now: float,
    job_kind: str,
    order_prefix: str,
) -> AbstractSet[str]:
    """Upsert contacts, insert messages (duplicates ignored) and one job per new message.

    Runs inside the caller's transaction; returns the provider ids that were new. A job's
    order key is ``order_prefix`` followed by the contact id.
    """
    conn.execute(_UPSERT_CONTACTS, {"rows": rows.contacts, "now": now})
    row = conn.execute(_LAST_MESSAGE_ID).fetchone()
    after = int(row[0]) if row else 0
    inserted = conn.execute(_INSERT_MESSAGES, {"rows": rows.messages, "now": now}).rowcount
    if inserted == 0:
        return frozenset()
    conn.execute(
        _ENQUEUE_JOBS,
        {"kind": job_kind, "order_prefix": order_prefix, "now": now, "after": after},
    )
    if inserted == rows.count:
        return rows.provider_ids
    return {str(provider_id) for (provider_id,) in conn.execute(_NEW_PROVIDER_IDS, (after,))}
