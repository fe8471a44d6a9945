"""``X-Hub-Signature-256`` checks: HMAC-SHA256 of the raw body, compared in constant time."""

from __future__ import annotations

import hmac
import re

from bot.errors import SignatureError
from bot.hmac_hex import hmac_sha256_hex

PREFIX = "sha256="
_WELL_FORMED = re.compile(r"sha256=[0-9a-f]{64}")
"""The only shape Meta sends, and the only one that can match: anything else (uppercase,
padding, characters outside ASCII) is refused before it is compared."""


def sign(secret: bytes, body: bytes) -> str:
    """The header value Meta sends for ``body``."""
    return PREFIX + hmac_sha256_hex(secret, body)


def verify(secret: bytes, body: bytes, header: str | None) -> None:
    """Raise SignatureError unless ``header`` signs exactly these bytes.

    The raw bytes are hashed, never re-serialised JSON: Meta signs its own escaped form.
    The hex digest must be exactly what Meta sends, lowercase: a header in another spelling
    (uppercase, padded) did not come from Meta, and taking it would only widen what a
    forger may try. The shape is checked first: ``hmac.compare_digest`` raises TypeError
    for a str with characters outside ASCII, which would have been a 503 (Meta redelivers)
    for what is a forged or broken request.
    """
    if not header:
        raise SignatureError("X-Hub-Signature-256 header missing", missing=True)
    if not _WELL_FORMED.fullmatch(header):
        raise SignatureError(
            "X-Hub-Signature-256 is not a sha256= signature of 64 lowercase hex digits",
            missing=False,
        )
    expected = hmac_sha256_hex(secret, body).encode()
    if not hmac.compare_digest(expected, header[len(PREFIX) :].encode()):
        raise SignatureError("X-Hub-Signature-256 does not match the body", missing=False)
