"""The Meta WhatsApp Cloud API provider (the sandbox speaks the same wire format).

Inbound: signature check and parsing of webhook bodies. Outbound: text sends, mark-as-read
and media, over httpx. Every failure leaves here as a ``bot.errors`` exception.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.whatsapp import signature
from adapters.whatsapp.errors import error_from_response, unreachable_as
from adapters.whatsapp.parse import parse_webhook
from bot.domain import OutboundText, WebhookBatch
from bot.errors import ProviderError
from bot.ids import ProviderMessageId, WaId

MAX_TEXT = 4096


@dataclass(frozen=True)
class DownloadedMedia:
    content: bytes
    mime_type: str


class CloudWhatsApp:
    """One business phone number on the Cloud API."""

    def __init__(
        self,
        *,
        api_base: str,
        phone_number_id: str,
        access_token: str,
        app_secret: str,
        verify_token: str,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        numbers: Collection[str] = (),
    ) -> None:
        """``numbers``: every business number whose webhooks this app takes (all configured
        ones share the app's webhook URL); ``phone_number_id`` alone when empty."""
        self._base = api_base.rstrip("/")
        self._phone_number_id = phone_number_id
        self._numbers = frozenset(numbers or (phone_number_id,))
        self._app_secret = app_secret.encode()
        self._verify_token = verify_token
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._headers = {"Authorization": f"Bearer {access_token}"}

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- inbound -----------------------------------------------------------------------------

    def verify_challenge(self, mode: str | None, token: str | None) -> bool:
        """The GET handshake Meta makes when the callback URL is saved."""
        return mode == "subscribe" and hmac.compare_digest(
            (token or "").encode(), self._verify_token.encode()
        )

    def parse(self, body: bytes, signature_header: str | None) -> WebhookBatch:
        """Verify, then parse; raises SignatureError or PayloadError. Changes for business
        numbers that are not configured come back as ``WebhookBatch.foreign`` only."""
        signature.verify(self._app_secret, body, signature_header)
        return parse_webhook(body, numbers=self._numbers)

    # -- outbound ----------------------------------------------------------------------------

    async def _post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        with unreachable_as("WhatsApp API unreachable"):
            response = await self._client.post(
                f"{self._base}/{path}", headers=self._headers, **kwargs
            )
        if response.status_code >= 400:
            raise error_from_response(response)
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise ProviderError("WhatsApp API answered with non-JSON", retryable=True) from exc
        return body

    async def send_text(self, to: WaId, message: OutboundText) -> ProviderMessageId:
        """Send free text; returns the wamid. Long texts are refused, not silently cut."""
        if len(message.text) > MAX_TEXT:
            raise ProviderError(
                f"text is {len(message.text)} characters; WhatsApp allows {MAX_TEXT}",
                retryable=False,
                code=100,
            )
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"body": message.text, "preview_url": False},
        }
        if message.reply_to:
            payload["context"] = {"message_id": message.reply_to}
        body = await self._post(f"{self._phone_number_id}/messages", json=payload)
        try:
            return ProviderMessageId(str(body["messages"][0]["id"]))
        except (KeyError, IndexError, TypeError) as exc:
            raise ProviderError("send answered without a message id", retryable=False) from exc

    async def mark_read(self, provider_message_id: ProviderMessageId) -> None:
        await self._post(
            f"{self._phone_number_id}/messages",
            json={
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": provider_message_id,
            },
        )

    async def download_media(self, media_id: str) -> DownloadedMedia:
        """Resolve the short-lived URL, then fetch it with the same Bearer token."""
        try:
            with unreachable_as("media download failed"):
                meta = await self._client.get(f"{self._base}/{media_id}", headers=self._headers)
                if meta.status_code >= 400:
                    raise error_from_response(meta)
                info = meta.json()
                data = await self._client.get(
                    str(info["url"]), headers=self._headers, follow_redirects=True
                )
        except (KeyError, ValueError) as exc:
            raise ProviderError("media lookup answered without a url", retryable=False) from exc
        if data.status_code >= 400:
            raise error_from_response(data)
        return DownloadedMedia(
            content=data.content, mime_type=str(info.get("mime_type") or "application/octet-stream")
        )

    async def upload_media(self, content: bytes, *, mime_type: str, filename: str) -> str:
        body = await self._post(
            f"{self._phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)},
        )
        try:
            return str(body["id"])
        except KeyError as exc:
            raise ProviderError("upload answered without an id", retryable=False) from exc
