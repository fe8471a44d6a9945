"""The template catalogue: read from Meta at start, every ``[whatsapp] templates_refresh``
and on ``!templates``, kept in the store, listed in a thread.

Reading runs outside any transaction (a slow Graph call must not hold the store) and is
never fatal: a failed read leaves the last catalogue in place and says so in the listing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.errors import DeliveryError
from bot.job_catalog import ConversationJob
from bot.ports import ChatPlatform, TemplateProvider
from bot.store import Store
from bot.store.jobs import Job
from bot.store.templates import Templates
from bot.templates.model import APPROVED, MessageTemplate
from bot.texts import Texts

log = logging.getLogger("empfang.templates")

MAX_LISTED = 50
"""Templates one ``!templates`` post lists (a Matrix event holds at most 64 KiB)."""


class StoredTemplates:
    """The approved templates an agent can send from the chat, as last read."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def sendable(self) -> list[MessageTemplate]:
        async with self._store.transaction() as tx:
            catalogue = await Templates(tx.conn).catalogue()
        return [t for t in catalogue if t.status == APPROVED and t.sendable]


class TemplateCatalogue:
    """Keeps the store's catalogue current and answers ``!templates`` (``chat.templates``)."""

    def __init__(
        self,
        store: Store,
        provider: TemplateProvider | None,
        chat: ChatPlatform,
        texts: Texts,
        key: Callable[[str], str],
        *,
        every: float,
    ) -> None:
        self._store = store
        self._provider = provider
        self._chat = chat
        self._texts = texts
        self._key = key
        self._every = every
        self._task: asyncio.Task[None] | None = None

    async def refresh(self) -> bool:
        """Read the catalogue from Meta into the store; False if it could not be read."""
        if self._provider is None:
            return False
        try:
            templates = await self._provider.message_templates()
        except DeliveryError as error:
            log.warning("template catalogue not read: %s", type(error).__name__)
            return False
        async with self._store.transaction() as tx:
            await Templates(tx.conn).replace_catalogue(templates)
        log.info("template catalogue read: %d templates", len(templates))
        return True

    def start(self) -> None:
        """Read now and then every ``every`` seconds, until :meth:`stop`."""
        if self._provider is not None and self._task is None:
            self._task = asyncio.create_task(self._keep_current(), name="empfang-templates")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_current(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self._every)

    async def post_listing(self, job: Job, payload: ConversationJob) -> None:
        """``chat.templates``: read the catalogue again, then list it in the thread."""
        fresh = await self.refresh()
        async with self._store.transaction() as tx:
            conversation = await tx.conversations.get(payload.conversation_id)
            catalogue = await Templates(tx.conn).catalogue()
        if conversation is None or conversation.thread_id is None:
            return
        text = listing([t for t in catalogue if t.status == APPROVED], self._texts)
        if not fresh and self._provider is not None:
            text = f"{self._texts.templates_stale}\n{text}"
        await self._chat.post(conversation.thread_id, text, key=self._key(f"job-{job.id}"))


def listing(templates: list[MessageTemplate], texts: Texts) -> str:
    """The approved templates with their parameter counts and text, and how to send one;
    cut after :data:`MAX_LISTED`, so a large account's list still fits one chat post."""
    if not templates:
        return texts.templates_none
    lines = [texts.templates_header]
    for template in templates[:MAX_LISTED]:
        preview = "\n".join(f"   {line}" for line in template.render().splitlines())
        lines.append(
            texts.templates_entry.format(
                name=template.name,
                language=template.language,
                category=template.category.lower() or "-",
                count=template.parameter_count,
                preview=preview,
            )
        )
        if not template.sendable:
            lines.append(texts.templates_not_sendable)
    if len(templates) > MAX_LISTED:
        lines.append(
            texts.templates_more.format(count=len(templates) - MAX_LISTED, limit=MAX_LISTED)
        )
    lines.append(texts.templates_usage)
    return "\n".join(lines)
