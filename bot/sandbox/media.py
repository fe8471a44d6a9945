"""Media kept by the sandbox: business uploads and what simulated customers send.

Both live in one store because on the real API both are fetched the same way: ``GET
/{media-id}`` returns a short-lived URL, and ``GET <url>`` with the Bearer token returns the
bytes. URLs carry an HMAC so a guessed or edited URL is refused like a stale one, and they
expire after five minutes on the sandbox clock. Ids expire too: uploads after 30 days, media
from webhooks after 7 (fact sheet §7).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.clock import Clock
from bot.media.limits import MIME_LIMITS
from bot.sandbox.errors import MediaUrlError
from bot.sandbox.graph import invalid_param, upload_error
from bot.sandbox.payloads import new_media_id

URL_TTL_SECONDS = 5 * 60
UPLOAD_TTL_SECONDS = 30 * 24 * 3600
INBOUND_TTL_SECONDS = 7 * 24 * 3600
ATTACHMENTS_PATH = "/whatsapp_business/attachments/"
"""Path of download URLs, modelled on ``lookaside.fbsbx.com/whatsapp_business/attachments/``."""

MAX_UPLOAD_BYTES = max(MIME_LIMITS.values())


@dataclass
class MediaItem:
    media_id: str
    content: bytes
    mime_type: str
    filename: str | None
    expires_at: float
    failing: bool = False
    """A customer's media Meta could not fetch from their phone: lookups answer 131052."""

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def media_facts(item: MediaItem) -> dict[str, str | int | None]:
    """What a phone shows of a file: its type, size, digest and name."""
    return {
        "mime_type": item.mime_type,
        "file_size": len(item.content),
        "sha256": item.sha256_hex,
        "filename": item.filename,
    }


STATIC_STICKER_BYTES = 100 * 1024
"""A static sticker's maximum (§7: 100 KB static, 500 KB animated)."""


def is_static_webp(content: bytes) -> bool:
    """A WebP picture without the animation flag (``VP8X`` chunk, flags bit 1)."""
    if content[:4] != b"RIFF" or content[8:12] != b"WEBP":
        return False
    return not (content[12:16] == b"VP8X" and len(content) > 20 and content[20] & 0x02)


def check_upload(mime_type: str, size: int, *, static_sticker: bool = False) -> None:
    """Refuse types and sizes Meta refuses (§7), naming the allowed types. A static
    sticker (``is_static_webp``) has a lower maximum than an animated one."""
    base = mime_type.split(";", 1)[0].strip().lower()
    limit = MIME_LIMITS.get(base)
    if limit is not None and base == "image/webp" and static_sticker:
        limit = STATIC_STICKER_BYTES
    if limit is None:
        allowed = ", ".join(sorted(MIME_LIMITS))
        raise invalid_param(f"Param file must be a file with one of the following types: {allowed}")
    if size > limit:
        raise upload_error(f"{base} files can be at most {limit} bytes; got {size}")
    if size == 0:
        raise upload_error("The file is empty")


class MediaStore:
    """In-memory media by id; deleted or expired ids behave like unknown ones."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._items: dict[str, MediaItem] = {}
        self._url_key = secrets.token_bytes(32)

    def add(
        self,
        content: bytes,
        mime_type: str,
        *,
        filename: str | None = None,
        inbound: bool = False,
        failing: bool = False,
    ) -> MediaItem:
        ttl = INBOUND_TTL_SECONDS if inbound else UPLOAD_TTL_SECONDS
        expires = self._clock.now() + ttl
        item = MediaItem(new_media_id(), content, mime_type, filename, expires, failing)
        self._items[item.media_id] = item
        return item

    def get(self, media_id: str) -> MediaItem | None:
        item = self._items.get(media_id)
        if item is None or item.expires_at <= self._clock.now():
            return None
        return item

    def delete(self, media_id: str) -> bool:
        return self._items.pop(media_id, None) is not None

    def clear(self) -> None:
        self._items.clear()

    def _digest(self, media_id: str, expires: str) -> str:
        message = f"{media_id}:{expires}".encode()
        return hmac.new(self._url_key, message, hashlib.sha256).hexdigest()[:32]

    def url_for(self, item: MediaItem, origin: str) -> str:
        """A download URL valid for five minutes from now."""
        expires = str(int(self._clock.now()) + URL_TTL_SECONDS)
        query = urlencode(
            {"mid": item.media_id, "ext": expires, "hash": self._digest(item.media_id, expires)}
        )
        return f"{origin.rstrip('/')}{ATTACHMENTS_PATH}?{query}"

    def resolve(self, mid: str, ext: str, digest: str) -> MediaItem:
        """The item a download URL names; MediaUrlError if tampered, stale or gone."""
        if not hmac.compare_digest(self._digest(mid, ext), digest):
            raise MediaUrlError("unknown media URL")
        if not ext.isdigit() or int(ext) <= self._clock.now():
            raise MediaUrlError("media URL expired; fetch a new one with GET /{media-id}")
        item = self.get(mid)
        if item is None or item.failing:
            raise MediaUrlError("media no longer exists")
        return item
