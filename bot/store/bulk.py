"""The intake's hot path: a whole commit group stored by ONE SQL statement.

Every webhook delivery needs the same three writes (contacts, messages, jobs). Issued one
by one they were the bottleneck of ingest (``bench/ingest.py``): each aiosqlite statement
is a trip to the database thread, and Python's ``sqlite3`` gives up the GIL for every step
of a statement and has to wait for the event loop to get it back. Here the group's rows go
in as one JSON array into a temporary view whose ``INSTEAD OF`` trigger does the three
writes per row; the statement is its own transaction, so statements, commit and fsync run
in a single step without the GIL. The trigger also notes each new message in a temporary
table, whose size tells how many of the group were new.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from bot.domain import InboundMessage
from bot.store.messages import stored_body

# Per connection (TEMP); created on first use. A message counts as new when its insert
# changed a row: a redelivered provider id hits the unique key and changes nothing.
_SCHEMA = """
CREATE TEMP TABLE IF NOT EXISTS intake_new (provider_id TEXT NOT NULL);
CREATE TEMP VIEW IF NOT EXISTS intake_inbound (
    wa_id, pseudonym, profile_name, region, provider_id, kind, body, number_id, lane,
    received_at, job_kind, order_prefix
) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TEMP TRIGGER IF NOT EXISTS intake_inbound_insert INSTEAD OF INSERT ON intake_inbound
BEGIN
    INSERT INTO contacts (wa_id, pseudonym, profile_name, region, created_at)
    VALUES (NEW.wa_id, NEW.pseudonym, NEW.profile_name, NEW.region, NEW.received_at)
    ON CONFLICT (wa_id) DO UPDATE SET profile_name = excluded.profile_name
        WHERE excluded.profile_name IS NOT NULL AND excluded.profile_name IS NOT profile_name;
    INSERT INTO messages (direction, contact_id, provider_id, kind, body, created_at)
    SELECT 'in', id, NEW.provider_id, NEW.kind, NEW.body, NEW.received_at
    FROM contacts WHERE wa_id = NEW.wa_id
    ON CONFLICT (provider_id) DO NOTHING;
    INSERT INTO jobs (kind, payload, order_key, run_after, created_at)
    SELECT NEW.job_kind,
        json_object('message_id', id, 'contact_id', contact_id, 'number_id', NEW.number_id),
        NEW.order_prefix || contact_id || NEW.lane,
        NEW.received_at, NEW.received_at
    FROM messages
    WHERE changes() = 1 AND id = last_insert_rowid() AND provider_id = NEW.provider_id;
    INSERT INTO intake_new (provider_id) SELECT NEW.provider_id WHERE changes() = 1;
END;
"""

_INSERT = """
INSERT INTO intake_inbound
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,
    value ->> 6, value ->> 7, value ->> 8, :now, :job_kind, :order_prefix
FROM json_each(:rows) ORDER BY key
"""

# New rows have larger ids than any row stored before the statement.
_NEWEST = """
SELECT provider_id FROM messages
WHERE provider_id IN (SELECT value ->> 4 FROM json_each(:rows))
ORDER BY id DESC LIMIT :new
"""


@dataclass(frozen=True)
class NewContact:
    """A sender known by ``wa_id``, with what is stored for a contact seen first."""

    wa_id: str
    pseudonym: str
    profile_name: str | None
    region: str | None


@dataclass(frozen=True)
class InboundRows:
    """A commit group's rows as one JSON array for ``json_each``.

    Built on the event loop, so the database thread, which every commit waits for, only
    runs SQL.
    """

    json: str
    provider_ids: frozenset[str]
    count: int

    @classmethod
    def build(
        cls, messages: list[tuple[NewContact, InboundMessage]], *, lane: Callable[[str], str]
    ) -> InboundRows:
        """``lane`` is what a business number adds to the order key after the contact id
        (``bot.job_catalog.number_lane``): the jobs are ordered per customer and number."""
        return cls(
            json=json.dumps([_row(contact, message, lane) for contact, message in messages]),
            provider_ids=frozenset(m.provider_id for _, m in messages),
            count=len(messages),
        )


def _row(
    contact: NewContact, message: InboundMessage, lane: Callable[[str], str]
) -> list[str | None]:
    """One ``intake_inbound`` row, in the view's column order."""
    return [
        contact.wa_id,
        contact.pseudonym,
        contact.profile_name,
        contact.region,
        message.provider_id,
        message.kind.value,
        stored_body(message),
        message.number_id,
        lane(message.number_id),
    ]


def create_intake_objects(conn: sqlite3.Connection) -> None:
    """The temporary table, view and trigger ``store_inbound`` uses (once per connection)."""
    conn.executescript(_SCHEMA)


def store_inbound(
    conn: sqlite3.Connection,
    rows: InboundRows,
    *,
    now: float,
    job_kind: str,
    order_prefix: str,
) -> AbstractSet[str]:
    """Upsert contacts, insert messages (duplicates ignored) and one job per new message.

    Must run outside a transaction: the insert is one statement and SQLite commits it as
    one. Returns the provider ids that were new. A contact's profile name follows its
    latest message that has one. Each job is what ``bot.job_catalog.enqueue`` writes for a
    ``MessageJob`` of ``job_kind``: the payload's JSON text and the order key
    ``order_prefix`` + the contact id + the number's lane (a test compares the rows of both
    paths).
    """
    conn.execute(
        _INSERT,
        {"rows": rows.json, "now": now, "job_kind": job_kind, "order_prefix": order_prefix},
    )
    # A failed insert rolled back its notes with everything else, so the table only ever
    # holds this statement's new messages.
    new = conn.execute("DELETE FROM intake_new").rowcount
    if new == rows.count:
        return rows.provider_ids
    return {str(p) for (p,) in conn.execute(_NEWEST, {"rows": rows.json, "new": new})}
