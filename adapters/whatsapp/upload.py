"""Agents' files to WhatsApp: upload to ``/{phone-number-id}/media``, then send by media id.

The upload streams the (already checked and stripped) file from disk as multipart
``file``/``type``/``messaging_product`` (fact sheet §7): httpx reads a file object in
chunks, so a 100 MB document never sits in memory. The send names the media id; a caption
goes only on image, video and document, the only types that take one (§6), and a filename
only on documents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.domain import OutboundMedia
from bot.errors import ProviderError
from bot.ids import ProviderMessageId, WaId

Post = Callable[..., Awaitable[dict[str, Any]]]
"""``CloudWhatsApp``'s POST to a Graph path: the error mapping stays in one place."""

CAPTION_KINDS = frozenset({"image", "video", "document"})
MAX_CAPTION = 1024
"""Meta's limit for media captions (the sandbox refuses longer ones as Meta does)."""


class CloudMediaOut:
    """Upload and send media through ``post``, from the number ``sender`` names (the
    conversation's, ``bot.routing``: a media id is usable by the number it was uploaded to)."""

    def __init__(self, post: Post, sender: Callable[[], str]) -> None:
        self._post = post
        self._sender = sender

    async def upload(self, path: Path, *, mime_type: str, filename: str) -> str:
        """Upload the file at ``path``; the media id WhatsApp gave it (valid 30 days)."""
        with path.open("rb") as stream:
            body = await self._post(
                f"{self._sender()}/media",
                data={"messaging_product": "whatsapp", "type": mime_type},
                files={"file": (filename, stream, mime_type)},
            )
        media_id = body.get("id")
        if not isinstance(media_id, str | int) or not str(media_id):
            raise ProviderError("media upload answered without an id", retryable=False)
        return str(media_id)

    async def send_media(self, to: WaId, media: OutboundMedia) -> ProviderMessageId:
        """Send uploaded media; a caption WhatsApp would refuse is refused here first."""
        content: dict[str, Any] = {"id": media.media_id}
        if media.caption:
            if media.kind not in CAPTION_KINDS:
                raise ProviderError(
                    f"{media.kind} messages take no caption", retryable=False, code=100
                )
            if len(media.caption) > MAX_CAPTION:
                raise ProviderError(
                    f"caption is {len(media.caption)} characters; WhatsApp allows {MAX_CAPTION}",
                    retryable=False,
                    code=100,
                )
            content["caption"] = media.caption
        if media.filename and media.kind == "document":
            content["filename"] = media.filename
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": media.kind,
            media.kind: content,
        }
        body = await self._post(f"{self._sender()}/messages", json=payload)
        try:
            return ProviderMessageId(str(body["messages"][0]["id"]))
        except (KeyError, IndexError, TypeError) as exc:
            raise ProviderError("send answered without a message id", retryable=False) from exc
