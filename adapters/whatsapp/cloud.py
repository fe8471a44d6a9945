"""The Meta WhatsApp Cloud API provider (the sandbox speaks the same wire format).

Inbound: signature check and parsing of webhook bodies. Outbound: text sends, mark-as-read
and media, over httpx. Every failure leaves here as a ``bot.errors`` exception.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from typing import Any
from urllib.parse import quote

import httpx

from adapters.whatsapp import signature, templates
from adapters.whatsapp.errors import error_from_response, unreachable_as
from adapters.whatsapp.media import CloudMediaIn
from adapters.whatsapp.parse import parse_webhook
from adapters.whatsapp.upload import CloudMediaOut
from bot.domain import OutboundButtons, OutboundReaction, OutboundText, WebhookBatch
from bot.errors import ProviderError
from bot.http_client import ClientOnFirstUse
from bot.ids import ProviderMessageId, WaId
from bot.routing import sender
from bot.templates.model import MessageTemplate, TemplateMessage

MAX_TEXT = 4096


def _message(to: WaId, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: content,
    }


class CloudWhatsApp:
    """One business phone number on the Cloud API."""

    sends_templates = True

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
        waba_id: str = "",
    ) -> None:
        """``numbers``: every business number whose webhooks this app takes (all configured
        ones share the app's webhook URL); ``phone_number_id`` alone when empty."""
        self._base = api_base.rstrip("/")
        self._phone_number_id = phone_number_id
        self._waba_id = waba_id
        self._numbers = frozenset(numbers or (phone_number_id,))
        self._app_secret = app_secret.encode()
        self._verify_token = verify_token
        self._client = ClientOnFirstUse(timeout=timeout, client=client)
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
        return await self._request("POST", path, **kwargs)

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        with unreachable_as("WhatsApp API unreachable"):
            response = await self._client().request(
                method, f"{self._base}/{path}", headers=self._headers, **kwargs
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
        payload = _message(to, "text", {"body": message.text, "preview_url": False})
        if message.reply_to:
            payload["context"] = {"message_id": message.reply_to}
        return await self._send(payload)

    async def send_reaction(self, to: WaId, reaction: OutboundReaction) -> ProviderMessageId:
        """React to one of the customer's messages; an empty emoji removes the reaction."""
        reacted = {"message_id": reaction.message_id, "emoji": reaction.emoji}
        return await self._send(_message(to, "reaction", reacted))

    async def send_buttons(self, to: WaId, message: OutboundButtons) -> ProviderMessageId:
        """A question with reply buttons (``option-1`` …); a tap comes back as a
        ``button_reply`` with the option's title."""
        buttons = [
            {"type": "reply", "reply": {"id": f"option-{index}", "title": title}}
            for index, title in enumerate(message.options, 1)
        ]
        interactive = {
            "type": "button",
            "body": {"text": message.text},
            "action": {"buttons": buttons},
        }
        return await self._send(_message(to, "interactive", interactive))

    async def send_template(self, to: WaId, message: TemplateMessage) -> ProviderMessageId:
        """An approved template (§8), e.g. after the 24-hour window closed."""
        return await self._send(_message(to, "template", templates.template_object(message)))

    async def message_templates(self) -> list[MessageTemplate]:
        """Every template of the WhatsApp Business Account (``[whatsapp] waba_id``), all
        pages, whatever their status: the catalogue keeps paused ones to explain them."""
        if not self._waba_id:
            raise ProviderError("whatsapp.waba_id is not set", retryable=False)
        found: list[MessageTemplate] = []
        params = {"fields": templates.CATALOGUE_FIELDS, "limit": str(templates.PAGE_SIZE)}
        for _ in range(templates.MAX_PAGES):
            path = f"{quote(self._waba_id, safe='')}/message_templates"
            page = await self._request("GET", path, params=params)
            for raw in page.get("data") or []:
                template = templates.from_graph(raw)
                if template is not None:
                    found.append(template)
            after = templates.next_cursor(page)
            if after is None:
                break
            params = {**params, "after": after}
        return found

    def _sender(self) -> str:
        """The number this send leaves from (``bot.routing``): the conversation's, as one
        Graph path segment (it is configured, and quoted all the same)."""
        return quote(sender(self._phone_number_id, self._numbers), safe="")

    async def _send(self, payload: dict[str, Any]) -> ProviderMessageId:
        body = await self._post(f"{self._sender()}/messages", json=payload)
        try:
            return ProviderMessageId(str(body["messages"][0]["id"]))
        except (KeyError, IndexError, TypeError) as exc:
            raise ProviderError("send answered without a message id", retryable=False) from exc

    async def mark_read(self, provider_message_id: ProviderMessageId) -> None:
        await self._post(
            f"{self._sender()}/messages",
            json={
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": provider_message_id,
            },
        )

    @property
    def media_in(self) -> CloudMediaIn:
        """Lookup and streamed download of customers' media (``adapters.whatsapp.media``)."""
        return CloudMediaIn(self._client, self._base, self._headers)

    @property
    def media_out(self) -> CloudMediaOut:
        """Uploads and media sends for agents' files (``adapters.whatsapp.upload``)."""
        return CloudMediaOut(self._post, self._sender)
