"""The sandbox's Twilio side: one Twilio account with WhatsApp senders, in Twilio's wire
format (fact sheet §10, README "The WhatsApp sandbox").

REST side (what the bot calls), served by whoever hosts the account (``empfang sandbox``,
or the suite's ``tests/fakes/twilio.py`` on a port of its own):

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: HTTP Basic auth with the
  Account SID and Auth Token (else 401, code 20003), form-encoded ``To``/``From``/``Body``/
  ``StatusCallback``; ``201`` with a Message resource (``status: "queued"``). Errors in
  Twilio's JSON shape ``{"code", "message", "more_info", "status"}``: 21211 for a ``To`` that
  is not ``whatsapp:+<digits>``, 63007 for a ``From`` that is not one of the account's
  senders, 21602 without a body, 21617 over 1,600 characters; faults queued with
  :meth:`TwilioAccount.fail_next` (e.g. 429 with ``Retry-After``).
* ``GET …/Messages/{MessageSid}/Media/{MediaSid}``: the customer's media, Basic auth only.
* ``GET /2010-04-01/Accounts/{AccountSid}.json``: the account (``status``), for
  ``check-config --online``.

Webhook side (what Twilio sends the bot), form-encoded and signed with ``X-Twilio-Signature``
over the URL and the sorted parameters:

* :meth:`TwilioAccount.customer_says`: an inbound message to one of the senders
  (``whatsapp:`` addresses, ``WaId`` without ``+``, ``NumMedia``/``MediaUrl0``/
  ``MediaContentType0`` for a file);
* after each accepted send, status callbacks to its ``StatusCallback``: ``sent``,
  ``delivered``, ``read``; or ``failed`` with ``ErrorCode`` 63016 when the customer has not
  written to that sender within the last 24 hours (Twilio reports the closed window this
  way, after the ``201``). No callback for the initial ``queued``.

The signature is ``adapters.twilio.signature``'s, the one the bot checks with: the
documented test vector pins both (``tests/twilio/test_signature.py``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import secrets
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from adapters.twilio.signature import HEADER, sign
from bot.sandbox.delivery import Background

API_VERSION = "2010-04-01"
WINDOW_SECONDS = 24 * 3600.0
MAX_BODY = 1600
DEFAULT_ACCOUNT_SID = "AC" + "5a4db0c5" * 4
"""The sandbox's account when ``[twilio] account_sid`` is empty (Twilio's shape)."""
DEFAULT_AUTH_TOKEN = "sandbox-twilio-auth-token"
DEFAULT_SENDER = "whatsapp:+15555550199"
"""555-0199: a fictional number by convention, as the Cloud side's 555-0100."""
CALLBACK_TIMEOUT_SECONDS = 15.0
"""Twilio's default total webhook timeout (connection overrides ``tt``)."""


@dataclass
class Fault:
    status: int
    code: int
    message: str
    retry_after: str | None = None


@dataclass
class Callback:
    """One webhook the account sent, and how the bot answered it."""

    params: dict[str, str]
    status: int
    body: str


@dataclass
class TwilioAccount:
    """One Twilio account: its senders, what was sent through it, customers' last words."""

    account_sid: str = DEFAULT_ACCOUNT_SID
    auth_token: str = DEFAULT_AUTH_TOKEN
    senders: tuple[str, ...] = (DEFAULT_SENDER,)
    """The account's WhatsApp senders (``whatsapp:+…``); sends from any other are 63007."""
    status_delay: float = 0.01
    read_receipts: bool = True
    friendly_name: str = "Empfang Sandbox Account"
    account_status: str = "active"
    """``active``, ``suspended`` or ``closed``, as ``GET /Accounts/{sid}.json`` answers."""
    webhook_url: str = ""
    """Where inbound messages go (the bot's Twilio webhook, as configured at Twilio)."""
    clock: Callable[[], float] = time.time
    base_url: str = ""
    """Where the REST side is served (media URLs point there); set by the host."""
    sent: list[dict[str, str]] = field(default_factory=list)
    """Every accepted ``Messages.json`` form, in order, as posted."""
    sids: list[str] = field(default_factory=list)
    """The sid each of ``sent`` was given."""
    refused: list[tuple[int, int]] = field(default_factory=list)
    """(HTTP status, Twilio code) of every refused REST call."""
    callbacks: list[Callback] = field(default_factory=list)
    media_fetches: int = 0
    statuses: dict[str, str] = field(default_factory=dict)
    """The latest status of each accepted message, by its sid (``queued`` at first)."""
    sent_at: dict[str, float] = field(default_factory=dict)
    """When each accepted message was accepted, by its sid."""
    _faults: list[Fault] = field(default_factory=list)
    _last_inbound: dict[tuple[str, str], float] = field(default_factory=dict)
    _media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    background: Background = field(default_factory=Background)
    """Webhooks in flight; the sandbox shares its own, so its ``idle`` waits for them too."""

    @property
    def sender(self) -> str:
        """The first sender: where a customer writes unless told otherwise."""
        return self.senders[0]

    def add_routes(self, app: web.Application) -> None:
        """Serve the REST side from ``app``."""
        accounts = f"/{API_VERSION}/Accounts/{{sid}}"
        app.router.add_get(f"{accounts}.json", self._account)
        app.router.add_post(f"{accounts}/Messages.json", self._messages)
        app.router.add_get(f"{accounts}/Messages/{{message}}/Media/{{media}}", self._media_get)

    async def idle(self, seconds: float = 10.0) -> None:
        """Wait (at most ``seconds``) until every webhook in flight was answered."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.background.idle(), seconds)

    @property
    def busy(self) -> bool:
        """A webhook is still on its way."""
        return self.background.pending > 0

    def window_passes(self, number: str, sender: str | None = None) -> None:
        """The customer's last message to ``sender`` (the first) is now over 24 hours old."""
        key = (sender or self.sender, number.lstrip("+"))
        self._last_inbound[key] = self.clock() - WINDOW_SECONDS - 60

    def fail_next(
        self, status: int, code: int, message: str = "", *, retry_after: str | None = None
    ) -> None:
        """The next ``Messages.json`` call answers this error instead of sending."""
        self._faults.append(Fault(status, code, message or f"error {code}", retry_after))

    def reset(self) -> None:
        """Forget what was sent, received and queued; the senders stay."""
        self.sent.clear()
        self.sids.clear()
        self.statuses.clear()
        self.sent_at.clear()
        self.refused.clear()
        self.callbacks.clear()
        self._faults.clear()
        self._last_inbound.clear()
        self._media.clear()
        self.media_fetches = 0

    # -- the customer's side -----------------------------------------------------------------

    def signed(self, url: str, params: Mapping[str, str]) -> dict[str, str]:
        return {HEADER: sign(self.auth_token, url, list(params.items()))}

    def inbound(
        self,
        number: str,
        text: str,
        *,
        name: str | None = None,
        media: tuple[bytes, str] | None = None,
        to: str | None = None,
    ) -> dict[str, str]:
        """The form of a customer's (``+<digits>``) message to a sender (``to``, else the
        first), as Twilio posts it; the customer's window with that sender opens."""
        digits = number.lstrip("+")
        sender = to or self.sender
        sid = ("MM" if media else "SM") + secrets.token_hex(16)
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "From": f"whatsapp:+{digits}",
            "To": sender,
            "Body": text,
            "NumMedia": "1" if media else "0",
            "NumSegments": "1",
            "WaId": digits,
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
            "MessageType": media[1].split("/")[0] if media else "text",
        }
        if name is not None:
            params["ProfileName"] = name
        if media:
            media_sid = "ME" + secrets.token_hex(16)
            self._media[media_sid] = media
            params["MediaUrl0"] = (
                f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}"
                f"/Messages/{sid}/Media/{media_sid}"
            )
            params["MediaContentType0"] = media[1]
        self._last_inbound[(sender, digits)] = self.clock()
        return params

    async def customer_says(
        self,
        number: str,
        text: str,
        *,
        name: str | None = None,
        media: tuple[bytes, str] | None = None,
        to: str | None = None,
        signature: str | None = "good",
    ) -> Callback:
        """:meth:`inbound`, posted signed to the bot; its answer returned. ``signature``:
        ``"good"``, None (header left out) or any other value sent as the header."""
        params = self.inbound(number, text, name=name, media=media, to=to)
        headers = self.signed(self.webhook_url, params)
        if signature is None:
            headers = {}
        elif signature != "good":
            headers = {HEADER: signature}
        return await self._post(self.webhook_url, params, headers)

    def customer_says_later(self, number: str, text: str, **options: Any) -> str:
        """:meth:`customer_says` in the background (the sandbox's driver); the MessageSid."""
        params = self.inbound(number, text, **options)
        headers = self.signed(self.webhook_url, params)
        self._later(self._posted(self.webhook_url, params, headers))
        return params["MessageSid"]

    def inbox(self, number: str, sender: str | None = None) -> list[str]:
        """What the customer's phone received (from ``sender``; any without): the bodies."""
        return [form.get("Body", "") for _, form in self._received(number, sender)]

    def chat_view(self, number: str, sender: str) -> dict[str, Any]:
        """The customer's chat with one sender in the shape of the sandbox's Cloud inbox:
        each message's sid, time, text and latest status, and the 24-hour window."""
        digits = number.lstrip("+")
        wrote = self._last_inbound.get((sender, digits))
        return {
            "wa_id": digits,
            "business": sender,
            "window_open": self._window_open(sender, f"whatsapp:+{digits}"),
            "window_closes_at": str(int(wrote + WINDOW_SECONDS)) if wrote else None,
            "messages": [
                {
                    "id": sid,
                    "type": "text",
                    "timestamp": str(int(self.sent_at[sid])),
                    "text": form.get("Body", ""),
                    "status": self.statuses[sid],
                }
                for sid, form in self._received(number, sender)
            ],
        }

    def _received(self, number: str, sender: str | None) -> list[tuple[str, dict[str, str]]]:
        to = f"whatsapp:+{number.lstrip('+')}"
        return [
            (sid, form)
            for sid, form in zip(self.sids, self.sent, strict=True)
            if form["To"] == to and sender in (None, form["From"])
        ]

    # -- REST --------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        given = request.headers.get("Authorization", "")
        return request.match_info["sid"] == self.account_sid and hmac.compare_digest(
            given.encode(), f"Basic {expected}".encode()
        )

    def _error(self, status: int, code: int, message: str, **headers: str) -> web.Response:
        self.refused.append((status, code))
        return web.json_response(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status=status,
            headers=headers,
        )

    async def _account(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._error(401, 20003, "Authenticate")
        return web.json_response(
            {
                "sid": self.account_sid,
                "friendly_name": self.friendly_name,
                "status": self.account_status,
                "type": "Full",
                "uri": f"/{API_VERSION}/Accounts/{self.account_sid}.json",
            }
        )

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._error(401, 20003, "Authenticate")
        if self._faults:
            fault = self._faults.pop(0)
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return self._error(fault.status, fault.code, fault.message, **extra)
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        to, sender, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not to.startswith("whatsapp:+") or not to[10:].isdigit():
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if sender not in self.senders:
            return self._error(
                400, 63007, "Twilio could not find a Channel with the specified From address"
            )
        if not body and not form.get("MediaUrl"):
            return self._error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            return self._error(400, 21617, "The concatenated message body exceeds the limit.")
        sid = "SM" + secrets.token_hex(16)
        self.sent.append(form)
        self.sids.append(sid)
        self.statuses[sid] = "queued"
        self.sent_at[sid] = self.clock()
        if form.get("StatusCallback"):
            self._later(self._report(sid, form))
        return web.json_response(self._resource(sid, form), status=201)

    def _resource(self, sid: str, form: Mapping[str, str]) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "sid": sid,
            "account_sid": self.account_sid,
            "from": form["From"],
            "to": form["To"],
            "body": form.get("Body", ""),
            "status": "queued",
            "num_media": "0",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": API_VERSION,
            "date_created": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            "error_code": None,
            "error_message": None,
            "price": None,
            "price_unit": "USD",
            "uri": uri + ".json",
            "subresource_uris": {"media": uri + "/Media.json"},
        }

    async def _media_get(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._error(401, 20003, "Authenticate")
        found = self._media.get(request.match_info["media"])
        if found is None:
            return self._error(404, 20404, "The requested resource was not found")
        self.media_fetches += 1
        content, mime = found
        return web.Response(body=content, content_type=mime)

    # -- status callbacks --------------------------------------------------------------------

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        self.background.spawn(work, "twilio-webhook")

    def _window_open(self, sender: str, to: str) -> bool:
        wrote = self._last_inbound.get((sender, to.removeprefix("whatsapp:+")))
        return wrote is not None and self.clock() - wrote < WINDOW_SECONDS

    def _steps(self, form: Mapping[str, str]) -> Sequence[tuple[str, str | None]]:
        if not self._window_open(form["From"], form["To"]):
            return [("failed", "63016")]
        steps: list[tuple[str, str | None]] = [("sent", None), ("delivered", None)]
        return [*steps, ("read", None)] if self.read_receipts else steps

    async def _report(self, sid: str, form: Mapping[str, str]) -> None:
        for status, code in self._steps(form):
            await asyncio.sleep(self.status_delay)
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "AccountSid": self.account_sid,
                "From": form["From"],
                "To": form["To"],
                "ApiVersion": API_VERSION,
                "ChannelPrefix": "whatsapp",
                "ChannelInstallSid": "XE" + "0" * 32,
                "ChannelToAddress": "+" + form["To"].removeprefix("whatsapp:+"),
            }
            if code is not None:
                params["ErrorCode"] = code
            self.statuses[sid] = status
            url = form["StatusCallback"]
            await self._post(url, params, self.signed(url, params))

    async def _posted(self, url: str, params: dict[str, str], headers: dict[str, str]) -> None:
        await self._post(url, params, headers)

    async def _post(self, url: str, params: dict[str, str], headers: dict[str, str]) -> Callback:
        async with httpx.AsyncClient(timeout=CALLBACK_TIMEOUT_SECONDS) as client:
            try:
                response = await client.post(url, data=params, headers=headers)
            except httpx.TransportError as exc:
                callback = Callback(params, 0, f"unreachable: {type(exc).__name__}")
            else:
                callback = Callback(params, response.status_code, response.text)
        self.callbacks.append(callback)
        return callback
