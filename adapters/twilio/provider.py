"""Twilio's WhatsApp API as the provider (``[whatsapp] provider = "twilio"``).

Inbound: form-encoded webhooks, ``X-Twilio-Signature`` checked over the configured public
URL and every parameter. Outbound: ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``
with HTTP Basic auth, each send naming the same URL as its ``StatusCallback``. Every
failure leaves here as a ``bot.errors`` exception.

What Twilio's API has no counterpart for: mark-as-read (a no-op), reactions (refused, so
the agent's reaction is explained instead), reply buttons (sent as numbered options in the
text), and agents' files (Twilio takes files only from a public ``MediaUrl``, which Empfang
does not serve). Templates (``ContentSid``) are not built: a template send is refused.

Several senders of one account are one provider: each send leaves from the conversation's
number (``bot.routing.sender``), every webhook for another sender is foreign.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from adapters.twilio import signature
from adapters.twilio.errors import error_from_response
from adapters.twilio.media import TwilioMediaIn
from adapters.twilio.parse import parse_form
from adapters.whatsapp.errors import unreachable_as
from bot.config.twilio import WEBHOOK_PATH, TwilioSection
from bot.domain import (
    OutboundButtons,
    OutboundMedia,
    OutboundReaction,
    OutboundText,
    WebhookBatch,
)
from bot.errors import PayloadError, ProviderError
from bot.http_client import ClientOnFirstUse
from bot.ids import ProviderMessageId, WaId
from bot.routing import sender
from bot.templates.model import TemplateMessage
from bot.web import WebhookRoute

MAX_FIELDS = 200
"""Form fields a webhook may carry. Twilio sends a few dozen; the signature is computed
over all of them before anything is trusted, so a request of thousands is refused first."""
MAX_BODY = 1600
"""Twilio's limit for a message body; longer ones are refused with 21617."""
TOO_LONG = 21617
NOT_SUPPORTED = "not possible through Twilio's API"


class TwilioWhatsApp:
    """One WhatsApp sender on one Twilio account."""

    sends_templates = False
    """Templates go as Content templates (``ContentSid``), which Empfang does not send."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        webhook_url: str,
        api_base: str,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        numbers: Collection[str] = (),
    ) -> None:
        """``numbers``: every sender of the account Empfang answers for; ``from_number``
        alone when empty. Sends leave from the conversation's sender, ``from_number`` when
        no conversation scopes them."""
        self._token = auth_token
        self._from = from_number
        self._numbers = frozenset(numbers or (from_number,))
        self._webhook_url = webhook_url
        self._base = api_base.rstrip("/")
        self._account_path = f"/2010-04-01/Accounts/{account_sid}/"
        self._messages_url = f"{self._base}{self._account_path}Messages.json"
        self._client = ClientOnFirstUse(timeout=timeout, client=client)
        self._clock = clock
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._headers = {"Authorization": f"Basic {credentials}"}

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- inbound -----------------------------------------------------------------------------

    def verify_challenge(self, mode: str | None, token: str | None) -> bool:
        """Twilio makes no GET handshake: every GET on the webhook is refused."""
        return False

    def parse(self, body: bytes, signature_header: str | None) -> WebhookBatch:
        """Verify, then parse; raises SignatureError. Bytes that are not UTF-8 (Twilio
        sends none) are read as U+FFFD, so the signature is checked over what is kept."""
        signature.present(signature_header)  # before any work on the body
        try:
            params = parse_qsl(
                body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=MAX_FIELDS
            )
        except ValueError as exc:
            raise PayloadError(f"more than {MAX_FIELDS} form fields") from exc
        signature.verify(self._token, self._webhook_url, params, signature_header)
        return parse_form(params, numbers=self._numbers, now=self._clock())

    @property
    def media_in(self) -> TwilioMediaIn:
        """Customers' media, fetched with the account's credentials (``adapters.twilio.media``)."""
        return TwilioMediaIn(self._client, self._base, self._account_path, self._headers)

    # -- outbound ----------------------------------------------------------------------------

    async def send_text(self, to: WaId, message: OutboundText) -> ProviderMessageId:
        """Send free text; returns the message sid. Twilio has no quote-reply for WhatsApp,
        so ``reply_to`` is not passed on. Long texts are refused, not silently cut."""
        if len(message.text) > MAX_BODY:
            raise ProviderError(
                f"text is {len(message.text)} characters; Twilio allows {MAX_BODY}",
                retryable=False,
                code=TOO_LONG,
            )
        return await self._send(to, message.text)

    async def send_buttons(self, to: WaId, message: OutboundButtons) -> ProviderMessageId:
        """Reply buttons need a Content template at Twilio; the options go as numbered
        lines instead, and the customer answers in words."""
        options = "\n".join(f"{n}. {title}" for n, title in enumerate(message.options, 1))
        return await self.send_text(to, OutboundText(text=f"{message.text}\n\n{options}"))

    async def send_reaction(self, to: WaId, reaction: OutboundReaction) -> ProviderMessageId:
        raise ProviderError(f"reactions are {NOT_SUPPORTED}", retryable=False)

    async def send_template(self, to: WaId, message: TemplateMessage) -> ProviderMessageId:
        """Twilio sends templates as Content templates (``ContentSid``), not by Meta's name
        and language; not built, so the thread says why nothing was sent."""
        raise ProviderError(
            f"templates by name are {NOT_SUPPORTED}: it takes Content templates "
            "(ContentSid), which Empfang does not send yet",
            retryable=False,
        )

    async def mark_read(self, provider_message_id: ProviderMessageId) -> None:
        """Twilio has no read receipt for inbound messages; nothing to do."""

    async def _send(self, to: WaId, body: str) -> ProviderMessageId:
        sending = sender(self._from, self._numbers)  # the conversation's number (bot.routing)
        form = {"To": f"whatsapp:+{to}", "From": sending, "Body": body}
        if self._webhook_url:
            form["StatusCallback"] = self._webhook_url
        with unreachable_as("Twilio API unreachable"):
            response = await self._client().post(
                self._messages_url, data=form, headers=self._headers
            )
        if response.status_code >= 400:
            raise error_from_response(response)
        try:
            answer: Any = response.json()
            return ProviderMessageId(str(answer["sid"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError("Twilio answered a send without a sid", retryable=False) from exc

    @property
    def media_out(self) -> TwilioMediaOut:
        return TwilioMediaOut()


class TwilioMediaOut:
    """Agents' files: Twilio fetches media only from a public ``MediaUrl``, which Empfang
    does not serve; every file is refused with a reason the thread shows."""

    async def upload(self, path: Path, *, mime_type: str, filename: str) -> str:
        raise ProviderError(f"sending files is {NOT_SUPPORTED} yet", retryable=False)

    async def send_media(self, to: WaId, media: OutboundMedia) -> ProviderMessageId:
        raise ProviderError(f"sending files is {NOT_SUPPORTED} yet", retryable=False)


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
"""Twilio expects TwiML or an empty answer; empty TwiML says "nothing to send back"."""
ROUTE = WebhookRoute(
    path=WEBHOOK_PATH, signature_header=signature.HEADER, ack=EMPTY_TWIML, ack_type="text/xml"
)
"""Inbound messages and status callbacks both arrive here (``bot.web``)."""


def from_settings(
    section: TwilioSection, public_url: str, senders: Sequence[str] = ()
) -> TwilioWhatsApp:
    """The provider as ``[twilio]`` configures it (``public_url``: ``server.public_url``);
    ``senders``: every configured Twilio number, the first one sends."""
    return TwilioWhatsApp(
        account_sid=section.account_sid,
        auth_token=section.auth_token.get_secret_value(),
        from_number=senders[0] if senders else section.from_number,
        numbers=senders,
        webhook_url=section.signed_url(public_url),
        api_base=section.api_base,
        timeout=section.timeout_seconds,
    )
