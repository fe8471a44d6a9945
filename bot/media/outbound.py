"""An agent's file to the customer: fetched, checked, stripped, uploaded, sent.

The relay's ``relay.outbound_file`` job calls :meth:`AgentFileSender.send`. The file is
fetched from the chat into the spool (never into memory) with the cap of its declared type,
checked against WhatsApp's table as ``[media]`` narrows it, an image is written anew without
its metadata (``bot.media.strip``), and the result is uploaded to WhatsApp and sent by
media id. A file that may not go raises :class:`~bot.errors.MediaRefused`; the relay
explains it in the thread (:func:`refusal`), so nothing is dropped silently.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Literal, Protocol

from bot.commands import Parsed, parse
from bot.domain import OutboundMedia, OutboundText
from bot.errors import ImageUndecodable, MediaRefused, MediaTooLarge
from bot.ids import ProviderMessageId, WaId
from bot.media.limits import MediaLimits, base_type, human_size, media_class
from bot.media.names import TextMasker, mask_filename
from bot.media.spool import Spool
from bot.media.strip import strip_in_background
from bot.ports import AgentFile, AgentFiles
from bot.texts import Texts

MediaKind = Literal["image", "video", "audio", "document", "sticker"]

UNKNOWN_TYPE = "application/octet-stream"

SEND = "!send"


class WhatsAppMedia(Protocol):
    """Upload and send by media id (``adapters.whatsapp.upload.CloudMediaOut``)."""

    async def upload(self, path: Path, *, mime_type: str, filename: str) -> str: ...

    async def send_media(self, to: WaId, media: OutboundMedia) -> ProviderMessageId: ...


class TextSender(Protocol):
    """Sends a text (``WhatsAppProvider.send_text``): a caption audio cannot carry."""

    async def send_text(self, to: WaId, message: OutboundText) -> ProviderMessageId: ...


def file_intent(text: str, *, reply_mode: str) -> Parsed:
    """What a message with files asks for. Unlike text, a file needs no words: with
    ``reply_mode = "all"`` a file without a caption is sent; with ``"explicit"`` the caption
    must be ``!send`` (alone, or followed by the text for the customer)."""
    stripped = text.strip()
    if stripped.lower() == SEND:
        return Parsed("send", "")
    if not stripped:
        return Parsed("send" if reply_mode == "all" else "ignore", "")
    return parse(stripped, reply_mode=reply_mode)


def declared_type(file: AgentFile) -> str:
    """The type the chat declared, else the one its name suggests."""
    if file.mime_type:
        return base_type(file.mime_type)
    guessed, _ = mimetypes.guess_type(file.name)
    return guessed or UNKNOWN_TYPE


_KINDS: dict[str, MediaKind] = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "document": "document",
    "sticker": "sticker",
}


def whatsapp_kind(mime: str) -> MediaKind:
    """What WhatsApp sends a file of this type as (its class, §7)."""
    return _KINDS[media_class(mime)]


def refusal(error: MediaRefused, name: str, texts: Texts) -> str:
    """Why a file did not go, in the thread's language, naming the (masked) file."""
    size = human_size(error.size) if error.size is not None else "?"
    if isinstance(error, MediaTooLarge):
        return texts.file_too_large.format(
            name=name, mime=error.mime, size=size, limit=human_size(error.limit)
        )
    if isinstance(error, ImageUndecodable):
        return texts.file_unreadable.format(name=name, mime=error.mime)
    return texts.file_type_refused.format(name=name, mime=error.mime, size=size)


class AgentFileSender:
    """Sends agents' files; one instance per bot (spool, limits and clients are shared)."""

    def __init__(
        self,
        files: AgentFiles,
        media: WhatsAppMedia,
        whatsapp: TextSender,
        limits: MediaLimits,
        spool: Spool,
    ) -> None:
        self._files = files
        self._media = media
        self._whatsapp = whatsapp
        self._limits = limits
        self._spool = spool

    async def send(
        self, to: WaId, file: AgentFile, caption: str, masker: TextMasker
    ) -> ProviderMessageId:
        """Send ``file`` with ``caption``; the provider id of the last message sent.

        Audio and stickers take no caption: the text then follows as a message of its own.
        Raises :class:`MediaRefused` for a file that may not go (nothing was sent) and the
        fetch's or WhatsApp's ``DeliveryError`` otherwise.
        """
        mime = declared_type(file)
        if file.size is not None:
            self._limits.check(mime, file.size)  # refused before a byte is fetched
        name = mask_filename(file.name, masker)
        raw = await self._files.fetch_file(file, self._spool, cap=self._limits.limit_for(mime))
        try:
            self._limits.check(mime, raw.size)
            kind = whatsapp_kind(mime)
            with self._spool.temporary() as clean:
                upload = raw.path
                if kind in ("image", "sticker"):
                    facts = await strip_in_background(raw.path, clean, mime)
                    mime, upload = facts.mime, clean
                    self._limits.check(mime, clean.stat().st_size)
                media_id = await self._media.upload(upload, mime_type=mime, filename=name)
        finally:
            raw.discard()
        takes_caption = kind in ("image", "video", "document")
        sent = await self._media.send_media(
            to,
            OutboundMedia(
                kind=kind,
                media_id=media_id,
                caption=(caption or None) if takes_caption else None,
                filename=name if kind == "document" else None,
            ),
        )
        if caption and not takes_caption:
            sent = await self._whatsapp.send_text(to, OutboundText(text=caption))
        return sent
