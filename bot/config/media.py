"""``[media]``: which customer and agent files are relayed, how large, and whether kept.

Defaults are WhatsApp's own table (``bot.media.limits``): every type WhatsApp carries, at
its maximum. An admin narrows it: fewer ``allowed_types``, lower ``max_bytes`` per MIME
type or per class (``image``, ``audio``, ``video``, ``document``, ``sticker``). A maximum
above WhatsApp's is refused, because WhatsApp would refuse such a file anyway.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from bot.config.base import Section
from bot.media.limits import (
    KB,
    MB,
    MEDIA_CLASSES,
    MIME_LIMITS,
    MediaLimits,
    base_type,
    media_class,
    whatsapp_limit,
)

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(b|kb|mb)?")
_UNIT = {"b": 1, "kb": KB, "mb": MB}
_MIME = re.compile(r"[a-z0-9.+-]+/[a-z0-9.+-]+")


def parse_size(value: Any) -> int:
    """Bytes from ``"5MB"``, ``"500KB"``, ``"812B"`` or a plain number of bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.fullmatch(str(value).strip().lower())
    if match is None:
        raise ValueError(f'"{value}" is not a size like "5MB", "500KB" or 1048576')
    return int(float(match.group(1)) * _UNIT[match.group(2) or "b"])


ByteSize = Annotated[int, BeforeValidator(parse_size)]


class MediaSection(Section):
    allowed_types: list[str] = Field(default_factory=lambda: list(MIME_LIMITS))
    """MIME types relayed in both directions; anything else is refused with a notice."""
    max_bytes: dict[str, ByteSize] = Field(default_factory=dict)
    """Lower maxima, keyed by MIME type or class; a type's own key wins over its class."""
    keep_days: int = Field(default=0, ge=0)
    """0: no copy of a file stays after it was relayed. More: stripped copies are kept this
    many days in the data folder (``media-kept``), then deleted."""

    @field_validator("allowed_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        bare = [base_type(mime) for mime in value]
        wrong = [mime for mime in bare if not _MIME.fullmatch(mime)]
        if wrong:
            raise ValueError(f"not MIME types (like image/jpeg): {', '.join(wrong)}")
        return bare

    @model_validator(mode="after")
    def _within_whatsapp(self) -> MediaSection:
        for key, size in self.max_bytes.items():
            name = key.lower()
            if name not in MEDIA_CLASSES and not _MIME.fullmatch(name):
                raise ValueError(
                    f"max_bytes key {key!r} is neither a MIME type nor one of"
                    f" {', '.join(MEDIA_CLASSES)}"
                )
            if size <= 0:
                raise ValueError(f"max_bytes.{key} must be more than 0")
            ceiling = max(
                (whatsapp_limit(m) for m in MIME_LIMITS if m == name or media_class(m) == name),
                default=whatsapp_limit(name),
            )
            if size > ceiling:
                raise ValueError(f"max_bytes.{key} is more than WhatsApp carries ({ceiling} bytes)")
        return self

    def limits(self) -> MediaLimits:
        return MediaLimits(self.allowed_types, self.max_bytes)
