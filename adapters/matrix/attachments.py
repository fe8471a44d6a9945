"""Agents' files in Matrix: ``m.image``/``m.file``/``m.audio``/``m.video`` → ``AgentFile``,
and fetching them from the homeserver with the bot's token.

A plain attachment names its content with ``url`` (``mxc://server/id``); one in an
encrypted room carries ``file`` instead: the ``mxc://`` URI of the ciphertext plus the
AES-256-CTR key, the IV and the ciphertext's SHA-256 (client-server spec, "Sending
encrypted attachments"). The ciphertext is decrypted while it streams into the spool, with
the same counter construction as nio's ``decrypt_attachment``, and its hash is checked at
the end; a mismatch deletes what was written. Nothing is held in memory beyond a chunk.

Downloads use the authenticated media API (``/_matrix/client/v1/media/download``, Matrix
1.11), falling back to the older unauthenticated one for homeservers without it.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlparse

import httpx

from bot.errors import PlatformError
from bot.media.spool import ByteStream, Spool, SpooledFile
from bot.ports import AgentFile

FILE_MSGTYPES: dict[str, Literal["image", "video", "audio", "file"]] = {
    "m.image": "image",
    "m.video": "video",
    "m.audio": "audio",
    "m.file": "file",
}
DOWNLOAD_PATHS = ("/_matrix/client/v1/media/download", "/_matrix/media/v3/download")
"""Authenticated media first; the legacy path for homeservers older than Matrix 1.11."""
TIMEOUT = httpx.Timeout(30.0, read=60.0)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def agent_file(content: dict[str, Any]) -> tuple[AgentFile, str] | None:
    """The file of a file message and its caption; None for anything else.

    Since Matrix 1.10 a ``filename`` that differs from ``body`` makes ``body`` a caption;
    otherwise ``body`` is the file's name and there is no caption.
    """
    kind = FILE_MSGTYPES.get(str(content.get("msgtype")))
    if kind is None:
        return None
    raw_body, raw_name = content.get("body"), content.get("filename")
    body = raw_body if isinstance(raw_body, str) else ""
    filename = raw_name if isinstance(raw_name, str) and raw_name else None
    caption = body if filename and filename != body else ""
    info = _dict(content.get("info"))
    mime = info.get("mimetype") if isinstance(info.get("mimetype"), str) else None
    size = info.get("size") if type(info.get("size")) is int else None
    encrypted = _dict(content.get("file"))
    url = encrypted.get("url") if encrypted else content.get("url")
    if not isinstance(url, str) or not url.startswith("mxc://"):
        return None
    file = AgentFile(
        kind=kind,
        name=filename or body or "file",
        ref=url,
        mime_type=mime,
        size=size,
        secrets=json.dumps(encrypted, sort_keys=True) if encrypted else None,
    )
    return file, caption


@dataclass(frozen=True)
class _Keys:
    key: bytes
    iv: bytes
    sha256: bytes


def _unpadded(value: Any) -> bytes:
    """Unpadded base64, standard or URL-safe (the JWK key is URL-safe, the rest standard)."""
    from unpaddedbase64 import decode_base64  # only for encrypted files

    if not isinstance(value, str):
        raise ValueError("not a string")
    return decode_base64(value)


def _keys(secrets: str) -> _Keys:
    """The key material of an encrypted attachment's ``file`` object."""
    try:
        encrypted = json.loads(secrets)
        keys = _Keys(
            key=_unpadded(_dict(encrypted.get("key")).get("k")),
            iv=_unpadded(encrypted.get("iv")),
            sha256=_unpadded(_dict(encrypted.get("hashes")).get("sha256")),
        )
    except (ValueError, binascii.Error, AttributeError) as exc:
        raise PlatformError("encrypted attachment without usable keys", retryable=False) from exc
    if len(keys.key) != 32 or len(keys.iv) != 16:
        raise PlatformError("encrypted attachment with keys of the wrong length", retryable=False)
    return keys


class _Decrypting:
    """A :class:`ByteStream` that decrypts the ciphertext it reads and checks its hash at
    the end (raising, so the spool deletes the plaintext written so far)."""

    def __init__(self, response: ByteStream, keys: _Keys) -> None:
        self._response = response
        self._keys = keys

    @property
    def headers(self) -> Mapping[str, str]:
        return {}  # the ciphertext's length is not the plaintext's; the cap still holds

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        from Crypto.Cipher import AES  # the crypto only for encrypted files
        from Crypto.Util import Counter

        keys = self._keys
        counter = Counter.new(64, prefix=keys.iv[:8], initial_value=int.from_bytes(keys.iv[8:]))
        cipher = AES.new(keys.key, AES.MODE_CTR, counter=counter)
        digest = hashlib.sha256()
        async for chunk in self._response.aiter_bytes(chunk_size):
            digest.update(chunk)
            yield cipher.decrypt(chunk)
        if not hmac.compare_digest(digest.digest(), keys.sha256):
            raise PlatformError("encrypted attachment does not match its hash", retryable=False)


async def fetch(
    homeserver: str, access_token: str, file: AgentFile, spool: Spool, *, cap: int
) -> SpooledFile:
    """Stream ``file`` from the homeserver into ``spool`` (decrypted if it is encrypted)."""
    parsed = urlparse(file.ref)
    if parsed.scheme != "mxc" or not parsed.netloc or not parsed.path.strip("/"):
        raise PlatformError("attachment without a valid mxc:// URI", retryable=False)
    keys = _keys(file.secrets) if file.secrets else None
    media = f"{quote(parsed.netloc, safe='')}/{quote(parsed.path.strip('/'), safe='')}"
    headers = {"Authorization": f"Bearer {access_token}"}
    async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True) as client:
        for path in DOWNLOAD_PATHS:
            url = f"{homeserver.rstrip('/')}{path}/{media}"
            try:
                async with client.stream("GET", url, headers=headers) as response:
                    if response.status_code in (400, 404) and path != DOWNLOAD_PATHS[-1]:
                        continue  # an older homeserver: the legacy path
                    _check(response)
                    stream: ByteStream = response if keys is None else _Decrypting(response, keys)
                    return await spool.stream_to_file(stream, cap, mime=file.mime_type or "")
            except httpx.HTTPError as exc:
                raise PlatformError(
                    f"matrix media download failed ({type(exc).__name__})", retryable=True
                ) from exc
    raise PlatformError("matrix media download found no usable endpoint", retryable=False)


def _check(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429 or status >= 500:
        raise PlatformError(f"matrix media download answered {status}", retryable=True)
    raise PlatformError(f"matrix media download answered {status}", retryable=False)
