"""Which files Empfang relays, and how large they may be.

WhatsApp's own table (fact sheet §7) is the one source: the sandbox refuses uploads by it,
and :class:`MediaLimits` starts from it, narrowed by ``[media]`` (fewer types, lower
maxima). A file WhatsApp would refuse cannot be sent to a customer, and a customer cannot
send one larger than WhatsApp carries, so raising a maximum above WhatsApp's is pointless
and refused by the configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.errors import MediaTooLarge, MediaTypeRefused

KB = 1024
MB = 1024 * KB

MIME_LIMITS: dict[str, int] = {
    "audio/aac": 16 * MB,
    "audio/amr": 16 * MB,
    "audio/mpeg": 16 * MB,
    "audio/mp4": 16 * MB,
    "audio/ogg": 16 * MB,
    "text/plain": 100 * MB,
    "application/pdf": 100 * MB,
    "application/msword": 100 * MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * MB,
    "application/vnd.ms-excel": 100 * MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * MB,
    "application/vnd.ms-powerpoint": 100 * MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * MB,
    "image/jpeg": 5 * MB,
    "image/png": 5 * MB,
    "image/webp": 500 * KB,
    "video/mp4": 16 * MB,
    "video/3gpp": 16 * MB,
}
"""WhatsApp's supported MIME types and their maximum size in bytes (Meta's "Supported media
types"; ``image/webp`` is the sticker type, 500 KB being the animated sticker's limit)."""

MEDIA_CLASSES = ("audio", "document", "image", "sticker", "video")
"""The kinds WhatsApp groups its types into; ``[media] max_bytes`` takes these as keys too."""

DOCUMENT_MAX = 100 * MB
"""What a type outside WhatsApp's table may be at most when an admin allows it: WhatsApp
carries any other file as a document, with a document's limit."""

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
"""The types whose metadata :mod:`bot.media.strip` removes; an image must be one of them."""


def base_type(mime: str) -> str:
    """``audio/ogg; codecs=opus`` → ``audio/ogg``: limits and checks go by the bare type."""
    return mime.split(";", 1)[0].strip().lower()


def media_class(mime: str) -> str:
    """One of :data:`MEDIA_CLASSES` for a MIME type (``image/webp`` is a sticker)."""
    bare = base_type(mime)
    if bare == "image/webp":
        return "sticker"
    major = bare.split("/", 1)[0]
    return major if major in ("audio", "image", "video") else "document"


def human_size(size: int) -> str:
    """Bytes as people say them: ``812 bytes``, ``340 KB``, ``4.2 MB``."""
    if size < KB:
        return f"{size} bytes"
    if size < MB:
        return f"{size / KB:.0f} KB"
    return f"{size / MB:.1f} MB".replace(".0 MB", " MB")


def whatsapp_limit(mime: str) -> int:
    """WhatsApp's maximum for a type; a type outside its table travels as a document."""
    return MIME_LIMITS.get(base_type(mime), DOCUMENT_MAX)


class MediaLimits:
    """The allowed types and their maxima, as ``[media]`` sets them.

    ``max_bytes`` keys are MIME types or classes (:data:`MEDIA_CLASSES`); a type's own key
    wins over its class. Without configuration this is exactly WhatsApp's table.
    """

    def __init__(
        self,
        allowed_types: Iterable[str] = MIME_LIMITS,
        max_bytes: Mapping[str, int] | None = None,
    ) -> None:
        self._allowed = frozenset(base_type(mime) for mime in allowed_types)
        self._max = {key.lower(): value for key, value in (max_bytes or {}).items()}

    def limit_for(self, mime: str) -> int:
        """The most bytes a file of this type may have (allowed or not)."""
        bare = base_type(mime)
        ceiling = whatsapp_limit(bare)
        configured = self._max.get(bare, self._max.get(media_class(bare)))
        return ceiling if configured is None else min(configured, ceiling)

    def check(self, mime: str, size: int) -> None:
        """Raise :class:`MediaTypeRefused` or :class:`MediaTooLarge` for a file that may
        not be relayed; the message says type and size in words."""
        bare = base_type(mime) or "unknown type"
        if bare not in self._allowed:
            raise MediaTypeRefused(
                f"files of type {bare} are not accepted here ({human_size(size)})",
                mime=bare,
                size=size,
            )
        limit = self.limit_for(bare)
        if size > limit:
            raise MediaTooLarge(
                f"the {bare} file ({human_size(size)}) is larger than the"
                f" {human_size(limit)} allowed for this type",
                mime=bare,
                size=size,
                limit=limit,
            )
