"""``X-Twilio-Signature``: base64 HMAC-SHA1, keyed with the Auth Token, over the full URL
Twilio requested followed by every form parameter's name and value, sorted by name.

The check covers every received parameter (Twilio adds new ones without notice), so the
body is parsed once here and the same pairs go on to the parser. For an https URL with an
explicit port the signature is also accepted over the URL without it, as Twilio's own
validators do (Twilio may sign either form).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from bot.errors import SignatureError

HEADER = "X-Twilio-Signature"

Params = Sequence[tuple[str, str]]

_WELL_FORMED = re.compile(r"[A-Za-z0-9+/]{27}=")
"""Base64 of an HMAC-SHA1 (20 bytes), the only shape that can match: anything else
(characters outside ASCII included) is refused before it is compared."""


def sign(token: str, url: str, params: Params) -> str:
    """The header value Twilio sends for a POST of ``params`` to ``url``. One pass over the
    parameters: the request is not verified yet, and anyone may send many of them."""
    values: dict[str, list[str]] = {}
    for name, value in params:
        values.setdefault(name, []).append(value)
    signed = url + "".join(
        name + value for name in sorted(values) for value in sorted(values[name])
    )
    digest = hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _variants(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.port is not None:
        bare = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
        return [url, urlunsplit(bare)]
    return [url]


def present(header: str | None) -> str:
    """The header, or SignatureError (401) when the request carries none."""
    if not header:
        raise SignatureError(f"{HEADER} header missing", missing=True)
    return header


def verify(token: str, url: str, params: Params, header: str | None) -> None:
    """Raise SignatureError unless ``header`` signs ``params`` posted to ``url``. The
    shape is checked first: a header with characters outside ASCII made ``str.encode``
    or ``hmac.compare_digest`` raise, a 503 for what is a forged or broken request."""
    header = present(header)
    if not _WELL_FORMED.fullmatch(header):
        raise SignatureError(f"{HEADER} is not a base64 HMAC-SHA1", missing=False)
    if not any(
        hmac.compare_digest(sign(token, variant, params).encode(), header.encode())
        for variant in _variants(url)
    ):
        raise SignatureError(f"{HEADER} does not match the request", missing=False)
