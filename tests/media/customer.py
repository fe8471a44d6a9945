"""What a customer sends through the sandbox: files of each kind, as base64 driver specs."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

from PIL import Image

from bot.sandbox import Sandbox
from tests.numbers import CUSTOMER, THIRD_PARTY

CUSTOMER_PLUS = "+" + CUSTOMER
CAPTION = f"Schaden am Paket, ruf mich an: +{THIRD_PARTY}"
INVOICE_NAME = "Rechnung_0176-12345678.pdf"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"x" * 2000
OGG = b"OggS\x00\x02" + b"\x00" * 20 + b"opus voice" * 100


def send_file(sandbox: Sandbox, kind: str, content: bytes, mime: str, **extra: Any) -> str:
    """The customer sends ``content`` as a ``kind`` message; returns the wamid."""
    spec: dict[str, Any] = {
        "from": CUSTOMER_PLUS,
        "type": kind,
        "mime_type": mime,
        "data_base64": base64.b64encode(content).decode(),
        **extra,
    }
    return sandbox.send_message(spec)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def sticker() -> bytes:
    """A static WebP sticker, 64×64 like WhatsApp's (but smaller than 512×512)."""
    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (0, 200, 0, 255)).save(out, format="WEBP")
    return out.getvalue()
