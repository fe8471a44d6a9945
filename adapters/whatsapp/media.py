"""Customers' media from the Cloud API: lookup by id, then a streamed download (§7).

``GET /{media-id}`` with the Bearer token answers a URL valid for five minutes plus
``mime_type``, ``sha256`` (hex here, base64 in webhooks) and ``file_size`` (an int, or a
string in some accounts). ``GET <url>`` needs the same Bearer token and answers the bytes,
possibly after a redirect to another host; httpx drops the token on a redirect to another
origin, as it should. The body streams into the spool and stops at the cap, so a 100 MB
document never sits in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from adapters.whatsapp.errors import error_from_response, unreachable_as
from adapters.whatsapp.parse import MEDIA_ID
from bot.errors import OUTAGE_STATUSES, ProviderError
from bot.media.inbound import MediaInfo
from bot.media.spool import Spool, SpooledFile

DOWNLOAD_TIMEOUT = httpx.Timeout(30.0, read=60.0)
"""Per chunk, not per file: a large document on a slow line still finishes."""


class CloudMediaIn:
    """Lookup and download for one business account, sharing the provider's client:
    ``client`` answers it when a request needs it (``bot.http_client``)."""

    def __init__(
        self, client: Callable[[], httpx.AsyncClient], api_base: str, headers: Mapping[str, str]
    ):
        self._client = client
        self._base = api_base.rstrip("/")
        self._headers = dict(headers)

    async def lookup(self, media_id: str) -> MediaInfo:
        """The id goes into the Graph URL's path with the access token: one that is not a
        media id (``../me``, ``1?fields=…``; stored before the webhook checked them) is
        refused here, and the id is quoted as one path segment all the same."""
        if not MEDIA_ID.fullmatch(media_id):
            raise ProviderError("media id is not a Graph media id; not looked up", retryable=False)
        url = f"{self._base}/{quote(media_id, safe='')}"
        with unreachable_as("media lookup failed"):
            response = await self._client().get(url, headers=self._headers)
        if response.status_code >= 400:
            raise error_from_response(response)
        try:
            body: Any = response.json()
            url = str(body["url"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError("media lookup answered without a url", retryable=True) from exc
        size = body.get("file_size")
        return MediaInfo(
            url=url,
            mime_type=str(body.get("mime_type") or ""),
            sha256=str(body["sha256"]) if body.get("sha256") else None,
            size=int(size) if isinstance(size, int | str) and str(size).isdigit() else None,
        )

    async def download(self, info: MediaInfo, spool: Spool, *, cap: int) -> SpooledFile:
        """Raises ``ProviderError`` (retryable) when the media host refuses: an expired
        URL answers 401/403/404, and the caller then looks the media up again."""
        with unreachable_as("media download failed"):
            async with self._client().stream(
                "GET",
                info.url,
                headers=self._headers,
                follow_redirects=True,
                timeout=DOWNLOAD_TIMEOUT,
            ) as response:
                status = response.status_code
                if status >= 400:  # the media host is a CDN, no Graph error body
                    raise ProviderError(
                        f"media host answered HTTP {status}",
                        retryable=True,  # a new lookup gives a new URL
                        code=status,
                        outage=status in OUTAGE_STATUSES,
                    )
                return await spool.stream_to_file(response, cap, mime=info.mime_type)
