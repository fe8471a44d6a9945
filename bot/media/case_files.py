"""Customers' files for case systems with ``include_media`` (e-mail attachments, Zammad
article attachments).

The transfer job runs apart from the chat's media job, and no copy of a file stays at
rest, so the file is fetched again from WhatsApp (a webhook's media id lives 7 days) and
checked and stripped exactly as for the thread (``CustomerMedia.prepare``). It lives in the
spool for the one delivery. A file that may not be shown, or cannot be fetched any more, is
left out: the thread already explained it, and the case system still gets the message's
line saying what arrived. Agents' files are not attached: WhatsApp holds them only as
uploads the bot cannot list, and the case system gets the caption's line.
"""

from __future__ import annotations

import contextlib
import logging

from bot import render
from bot.cases.content import CATEGORY_ORDER
from bot.cases.model import Transfer, TransferFile
from bot.config import PrivacySection
from bot.domain import MessageKind
from bot.errors import DeliveryError, MediaRefused
from bot.media.inbound import MEDIA_KINDS, CustomerMedia, shown_name
from bot.store import Store

log = logging.getLogger("empfang.cases")


class CaseFiles:
    """Attaches the files of a transfer's customer messages."""

    def __init__(self, store: Store, media: CustomerMedia, privacy: PrivacySection) -> None:
        self._store = store
        self._media = media
        self._privacy = privacy

    async def attach(self, transfer: Transfer, temporary: contextlib.ExitStack) -> Transfer:
        """``transfer`` with its customers' files (deleted when ``temporary`` closes) and
        ``media`` among its categories; unchanged when it has none."""
        wanted = [
            m.message_id for m in transfer.messages if m.direction == "in" and m.kind in MEDIA_KINDS
        ]
        if not wanted:
            return transfer
        async with self._store.transaction() as tx:
            conversation = await tx.conversations.get(transfer.conversation_id)
            contact = await tx.contacts.get(conversation.contact_id) if conversation else None
            rows = [await tx.messages.get(message_id) for message_id in wanted]
        if contact is None:
            return transfer
        masker = render.Masker.for_contact(contact, self._privacy)
        files = []
        for row in rows:
            if row is None or row.body is None or row.kind not in MEDIA_KINDS:
                continue
            message = row.inbound(contact.sender)
            if message.media is None:
                continue
            kind = MessageKind(row.kind)
            name = shown_name(kind, message.media, masker)
            try:
                file = await self._media.prepare(kind, message.media, name, temporary)
            except (MediaRefused, DeliveryError) as error:
                log.info("case file %s left out: %s", row.id, type(error).__name__)
                continue
            files.append(
                TransferFile(
                    message_id=row.id,
                    name=file.name,
                    mime_type=file.mime_type,
                    size=file.size,
                    path=file.path,
                )
            )
        if not files:
            return transfer
        categories = {*transfer.categories, "media"}
        return transfer.model_copy(
            update={
                "files": tuple(files),
                "categories": tuple(c for c in CATEGORY_ORDER if c in categories),
            }
        )
