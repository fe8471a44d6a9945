"""Contacts: the one table that holds a customer's number."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import Sender
from bot.ids import WaId
from bot.store.sql import Connection


@dataclass(frozen=True)
class ContactRow:
    id: int
    wa_id: WaId | None
    user_id: str | None
    pseudonym: str
    profile_name: str | None
    region: str | None
    notice_sent_at: float | None
    objected_at: float | None = None
    """When the customer objected (``bot.objection``); None: Empfang may write to them on
    its own (first-contact notice, out-of-hours reply, later templates)."""

    @property
    def sender(self) -> Sender:
        return Sender(wa_id=self.wa_id, user_id=self.user_id, profile_name=self.profile_name)


_COLUMNS = "id, wa_id, user_id, pseudonym, profile_name, region, notice_sent_at, objected_at"


class Contacts:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def upsert(
        self, sender: Sender, *, pseudonym: str, region: str | None, now: float
    ) -> int:
        """Find the contact by wa_id, else BSUID; create it if new; keep the profile name fresh.

        Another process on the same PostgreSQL database may create the contact between the
        look-up and the insert (two replicas taking the customer's first messages): the
        insert then waits for it, adds nothing, and the contact it made is used."""
        existing = await self._find(sender)
        if existing is None:
            existing = await self._conn.insert(
                "INSERT INTO contacts (wa_id, user_id, pseudonym, profile_name, region,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (sender.wa_id, sender.user_id, pseudonym, sender.profile_name, region, now),
            )
            if existing is not None:
                return existing
            existing = await self._find(sender)
            assert existing is not None, "the conflicting contact was committed"
        await self._conn.execute(
            "UPDATE contacts SET profile_name = coalesce(?, profile_name),"
            " user_id = coalesce(user_id, ?) WHERE id = ?",
            (sender.profile_name, sender.user_id, existing),
        )
        return existing

    async def _find(self, sender: Sender) -> int | None:
        for column, value in (("wa_id", sender.wa_id), ("user_id", sender.user_id)):
            if value is None:
                continue
            rows = await self._conn.fetchall(
                f"SELECT id FROM contacts WHERE {column} = ?", (value,)
            )  # one hand-off to the database thread, not three (execute, fetch, close)
            for row in rows:
                return int(row[0])
        return None

    async def get(self, contact_id: int) -> ContactRow | None:
        rows = await self._conn.fetchall(
            f"SELECT {_COLUMNS} FROM contacts WHERE id = ?", (contact_id,)
        )
        return next((ContactRow(*row) for row in rows), None)

    async def mark_notice_sent(self, contact_id: int, now: float) -> bool:
        """Record the first-contact notice; False if it had been recorded already."""
        changed = await self._conn.execute(
            "UPDATE contacts SET notice_sent_at = ? WHERE id = ? AND notice_sent_at IS NULL",
            (now, contact_id),
        )
        return changed == 1

    async def set_objected(self, contact_id: int, now: float | None) -> bool:
        """Record an objection at ``now``, or lift it with None; False if nothing changed
        (objected already, or nothing to lift): the first objection's time stays."""
        if now is None:
            sql = "UPDATE contacts SET objected_at = NULL WHERE id = ? AND objected_at IS NOT NULL"
            changed = await self._conn.execute(sql, (contact_id,))
        else:
            changed = await self._conn.execute(
                "UPDATE contacts SET objected_at = ? WHERE id = ? AND objected_at IS NULL",
                (now, contact_id),
            )
        return changed == 1
