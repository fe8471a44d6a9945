"""The template catalogue and queued template sends (``bot.templates``)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.sql import Connection
from bot.templates.model import MessageTemplate, TemplateMessage


class Templates:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def replace_catalogue(self, templates: Sequence[MessageTemplate]) -> None:
        """The catalogue becomes ``templates``: deleted templates go, changed ones change."""
        await self._conn.execute("DELETE FROM message_templates")
        await self._conn.executemany(
            "INSERT INTO message_templates (name, language, status, template) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name, language) DO UPDATE SET status = excluded.status,"
            " template = excluded.template",
            [(t.name, t.language, t.status, t.model_dump_json()) for t in templates],
        )

    async def catalogue(self) -> list[MessageTemplate]:
        """Every template, by name and language."""
        rows = await self._conn.fetchall(
            "SELECT template FROM message_templates ORDER BY name, language"
        )
        return [MessageTemplate.model_validate_json(row[0]) for row in rows]

    async def named(self, name: str) -> list[MessageTemplate]:
        """The template ``name`` in each of its languages (names are lower case at Meta)."""
        rows = await self._conn.fetchall(
            "SELECT template FROM message_templates WHERE name = ? ORDER BY language",
            (name.lower(),),
        )
        return [MessageTemplate.model_validate_json(row[0]) for row in rows]

    async def requested(self, request: str) -> bool:
        """Whether the chat event ``request`` asked for a template send before."""
        return (
            await self._conn.fetchone("SELECT 1 FROM template_sends WHERE request = ?", (request,))
            is not None
        )

    async def queue_send(self, message_id: int, request: str, message: TemplateMessage) -> None:
        await self._conn.execute(
            "INSERT INTO template_sends (message_id, request, message) VALUES (?, ?, ?)",
            (message_id, request, message.model_dump_json()),
        )

    async def queued(self, message_id: int) -> TemplateMessage | None:
        """The template send stored for ``message_id``; None once done (or never queued)."""
        row = await self._conn.fetchone(
            "SELECT message FROM template_sends WHERE message_id = ?", (message_id,)
        )
        return TemplateMessage.model_validate_json(row[0]) if row and row[0] else None

    async def done(self, message_id: int) -> None:
        """The send is over: its parameters are not kept (the request id stays)."""
        await self._conn.execute(
            "UPDATE template_sends SET message = NULL WHERE message_id = ?", (message_id,)
        )
