"""What mirroring (``bot.mirror``) keeps: reactions both ways, and what an agent's message
carries beyond its text. Rows follow their message: deleting a message deletes them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.domain import BusinessEcho, DeliveryStatus
from bot.ids import ChatMessageId, StatusRef
from bot.store.messages import _COLUMNS, MessageRow
from bot.store.sql import Connection


@dataclass(frozen=True)
class ShownReaction:
    """The customer's reaction as the chat shows it on a post."""

    emoji: str
    ref: StatusRef | None


@dataclass(frozen=True)
class Extras:
    """An agent's message beyond its text: the customer message it answers, its buttons."""

    reply_to: int | None = None
    buttons: tuple[str, ...] = ()


class MirrorRows:
    """SQL for ``bot.mirror``; constructed on a transaction's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # -- the customer's reactions, as shown in the chat ----------------------------------------

    async def shown_reaction(self, message_id: int) -> ShownReaction | None:
        row = await self._conn.fetchone(
            "SELECT emoji, ref FROM shown_reactions WHERE message_id = ?", (message_id,)
        )
        return ShownReaction(row[0], row[1]) if row else None

    async def show_reaction(self, message_id: int, emoji: str, ref: StatusRef | None) -> None:
        await self._conn.execute(
            "INSERT INTO shown_reactions (message_id, emoji, ref) VALUES (?, ?, ?)"
            " ON CONFLICT (message_id) DO UPDATE SET emoji = excluded.emoji, ref = excluded.ref",
            (message_id, emoji, ref),
        )

    async def forget_reaction(self, message_id: int) -> None:
        await self._conn.execute("DELETE FROM shown_reactions WHERE message_id = ?", (message_id,))

    # -- agents' reactions, and the one WhatsApp shows -----------------------------------------

    async def add_agent_reaction(
        self, reaction_id: str, message_id: int, emoji: str, author: str, now: float
    ) -> bool:
        """False when the platform delivered this reaction before."""
        changed = await self._conn.execute(
            "INSERT INTO agent_reactions (reaction_id, message_id, emoji, author, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (reaction_id) DO NOTHING",
            (reaction_id, message_id, emoji, author, now),
        )
        return changed == 1

    async def remove_agent_reaction(self, reaction_id: str) -> int | None:
        """The message the removed reaction was on; None when it was not known."""
        row = await self._conn.fetchone(
            "DELETE FROM agent_reactions WHERE reaction_id = ? RETURNING message_id",
            (reaction_id,),
        )
        return int(row[0]) if row else None

    async def wanted_reaction(self, message_id: int) -> str:
        """What WhatsApp should show: the latest agent reaction still there, else none
        (WhatsApp keeps one reaction per sender and message)."""
        row = await self._conn.fetchone(
            "SELECT emoji FROM agent_reactions WHERE message_id = ?"
            f" ORDER BY created_at DESC, {self._conn.dialect.insertion_order} DESC LIMIT 1",
            (message_id,),
        )
        return str(row[0]) if row else ""

    async def sent_reaction(self, message_id: int) -> str:
        row = await self._conn.fetchone(
            "SELECT emoji FROM sent_reactions WHERE message_id = ?", (message_id,)
        )
        return str(row[0]) if row else ""

    async def set_sent_reaction(self, message_id: int, emoji: str) -> None:
        await self._conn.execute(
            "INSERT INTO sent_reactions (message_id, emoji) VALUES (?, ?)"
            " ON CONFLICT (message_id) DO UPDATE SET emoji = excluded.emoji",
            (message_id, emoji),
        )

    # -- what an agent's message carries beyond its text ---------------------------------------

    async def set_extras(self, message_id: int, extras: Extras) -> None:
        buttons = json.dumps(list(extras.buttons)) if extras.buttons else None
        await self._conn.execute(
            "INSERT INTO outbound_extras (message_id, reply_to, buttons) VALUES (?, ?, ?)",
            (message_id, extras.reply_to, buttons),
        )

    async def extras(self, message_id: int) -> Extras:
        row = await self._conn.fetchone(
            "SELECT reply_to, buttons FROM outbound_extras WHERE message_id = ?", (message_id,)
        )
        if row is None:
            return Extras()
        return Extras(reply_to=row[0], buttons=tuple(json.loads(row[1])) if row[1] else ())

    # -- posts and bodies ----------------------------------------------------------------------

    async def sharing_post(self, post: ChatMessageId) -> list[MessageRow]:
        """The customer messages one chat post shows (more than one where lines were
        combined, ``bot.batching``), in the post's order."""
        # ``<post>#<n>`` sorts between ``<post>#`` and ``<post>$``: the chat_id index answers.
        rows = await self._conn.fetchall(
            f"SELECT {_COLUMNS} FROM messages WHERE chat_id = ? OR (chat_id > ? AND chat_id < ?)"
            " ORDER BY id",
            (post, f"{post}#", f"{post}$"),
        )
        return [MessageRow(*row) for row in rows]

    async def edits_of(self, contact_id: int, provider_id: str) -> list[MessageRow]:
        """The customer's edits of one of their messages."""
        rows = await self._conn.fetchall(
            f"SELECT {_COLUMNS} FROM messages WHERE kind = 'edit'"
            f" AND {self._conn.dialect.json_text('body', 'target_id')} = ? AND contact_id = ?",
            (provider_id, contact_id),
        )
        return [MessageRow(*row) for row in rows]

    async def rewrite(self, message_id: int, kind: str, body: str) -> None:
        """Replace a stored message's content (an edit applied, a deleted text blanked)."""
        await self._conn.execute(
            "UPDATE messages SET kind = ?, body = ? WHERE id = ?", (kind, body, message_id)
        )


async def insert_echo(
    conn: Connection, contact_id: int, echo: BusinessEcho, now: float
) -> int | None:
    """A message sent from the WhatsApp Business app, stored as sent by the business;
    None if this echo was stored before (Meta redelivers)."""
    return await conn.insert(
        "INSERT INTO messages (direction, contact_id, provider_id, kind, body, author, status,"
        " status_rank, sent_at, created_at) VALUES ('out', ?, ?, ?, ?, ?, 'sent', ?, ?, ?)"
        " ON CONFLICT (provider_id) DO NOTHING",
        (
            contact_id,
            echo.provider_id,
            echo.kind.value,
            echo.text or "",
            ECHO_AUTHOR,
            DeliveryStatus.SENT.rank,
            echo.timestamp,
            now,
        ),
    )


ECHO_AUTHOR = "whatsapp-business-app"
"""The author of messages the business sent from the WhatsApp Business app."""
