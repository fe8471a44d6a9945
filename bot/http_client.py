"""An httpx client built when the first request needs it.

Building an ``httpx.AsyncClient`` loads httpcore with its HTTP/2 modules, anyio, and
certifi's CA bundle into an SSL context: ~2.8 MiB that a bot which has not called the
service yet does not need (issue 16: idle ≤ 70 MiB with one platform). The Graph API
(messages, media lookups and downloads, uploads), a Twilio account and the paging webhook
each get one, which a bot with paging not configured never builds.
"""

from __future__ import annotations

import httpx


class ClientOnFirstUse:
    """Call it for the client: built on the first call, the same one afterwards. A client
    given at construction (tests, a caller's own transport) is used as it is."""

    def __init__(self, *, timeout: float, client: httpx.AsyncClient | None = None) -> None:
        self._timeout = timeout
        self._client = client

    def __call__(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client

    async def aclose(self) -> None:
        """Close the client if one was built or given; nothing to do otherwise."""
        if self._client is not None:
            await self._client.aclose()
