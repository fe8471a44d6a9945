"""Paging: PagerDuty Events API v2 bodies, trigger and resolve under one dedup key.

Pages are jobs like every other send, so a paging tool that is down gets the event later.
"""

from __future__ import annotations

from typing import Any

import httpx

from bot import retry_after
from bot.config.alerts import PagingSection
from bot.errors import PagingError
from bot.http_client import ClientOnFirstUse


def page_body(
    section: PagingSection, *, action: str, dedup_key: str, summary: str, severity: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": section.routing_key.get_secret_value(),
        "event_action": action,
        "dedup_key": dedup_key,
    }
    if action == "trigger":
        body["payload"] = {"summary": summary, "source": section.source, "severity": severity}
    return body


class Pager:
    def __init__(self, section: PagingSection, client: httpx.AsyncClient | None = None) -> None:
        self._section = section
        self._client = ClientOnFirstUse(timeout=section.timeout_seconds, client=client)

    @property
    def configured(self) -> bool:
        return bool(self._section.url)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, payload: dict[str, Any]) -> None:
        """POST one prepared event; errors map to PagingError for the job worker."""
        try:
            response = await self._client().post(self._section.url, json=payload)
        except httpx.HTTPError as exc:
            raise PagingError(f"paging webhook unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429:
            raise PagingError(
                "paging webhook rate limit",
                retry_after=retry_after.seconds(response.headers.get("Retry-After")),
            )
        if response.status_code >= 500:
            raise PagingError(f"paging webhook answered {response.status_code}")
        if response.status_code >= 400:
            raise PagingError(
                f"paging webhook refused the event ({response.status_code})", retryable=False
            )
