"""A faithful fake of Twilio's WhatsApp API, as a local HTTP server (fact sheet §10).

REST side (what the bot calls):

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: HTTP Basic auth with the
  Account SID and Auth Token (else 401, code 20003), form-encoded ``To``/``From``/``Body``/
  ``StatusCallback``; ``201`` with a Message resource (``status: "queued"``). Errors in
  Twilio's JSON shape ``{"code", "message", "more_info", "status"}``: 21211 for a ``To`` that
  is not ``whatsapp:+<digits>``, 63007 for a ``From`` that is not the sender, 21602 without
  a body, 21617 over 1,600 characters; faults queued with :meth:`FakeTwilio.fail_next`
  (e.g. 429 with ``Retry-After``).
* ``GET …/Messages/{MessageSid}/Media/{MediaSid}``: the customer's media, Basic auth only.
* ``GET /2010-04-01/Accounts/{AccountSid}.json``: the account (``status``), for
  ``check-config --online``.

Webhook side (what Twilio sends the bot), form-encoded and signed with ``X-Twilio-Signature``
over the URL and the sorted parameters:

* :meth:`FakeTwilio.customer_says`: an inbound message (``whatsapp:`` addresses, ``WaId``
  without ``+``, ``NumMedia``/``MediaUrl0``/``MediaContentType0`` for a file);
* after each accepted send, status callbacks to its ``StatusCallback``: ``sent``,
  ``delivered``, ``read``; or ``failed`` with ``ErrorCode`` 63016 when the customer has not
  written within the last 24 hours (Twilio reports the closed window this way, after the
  ``201``). No callback for the initial ``queued``.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from adapters.twilio.signature import HEADER, sign

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-twilio-auth-token"
SENDER = "whatsapp:+14155238886"
API_VERSION = "2010-04-01"
WINDOW_SECONDS = 24 * 3600.0
MAX_BODY = 1600


@dataclass
class Fault:
    status: int
    code: int
    message: str
    retry_after: str | None = None


@dataclass
class Callback:
    """One webhook the fake sent, and how the bot answered it."""

    params: dict[str, str]
    status: int
    body: str


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    sender: str = SENDER
    status_delay: float = 0.01
    read_receipts: bool = True
    account_status: str = "active"
    """``active``, ``suspended`` or ``closed``, as ``GET /Accounts/{sid}.json`` answers."""
    webhook_url: str = ""
    """Where inbound messages go (the bot's Twilio webhook, as configured at Twilio)."""
    sent: list[dict[str, str]] = field(default_factory=list)
    """Every accepted ``Messages.json`` form, in order."""
    refused: list[tuple[int, int]] = field(default_factory=list)
    """(HTTP status, Twilio code) of every refused REST call."""
    callbacks: list[Callback] = field(default_factory=list)
    media_fetches: int = 0
    _faults: list[Fault] = field(default_factory=list)
    _last_inbound: dict[str, float] = field(default_factory=dict)
    _media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    base_url: str = ""

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeTwilio:
        app = web.Application()
        accounts = f"/{API_VERSION}/Accounts/{{sid}}"
        app.router.add_get(f"{accounts}.json", self._account)
        app.router.add_post(f"{accounts}/Messages.json", self._messages)
        app.router.add_get(f"{accounts}/Messages/{{message}}/Media/{{media}}", self._media_get)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        await self.idle()
        if self._runner is not None:
            await self._runner.cleanup()

    async def idle(self, seconds: float = 10.0) -> None:
        """Wait until every status callback in flight was answered."""
        deadline = time.monotonic() + seconds
        while self._tasks and time.monotonic() < deadline:
            await asyncio.wait(set(self._tasks), timeout=max(deadline - time.monotonic(), 0))

    @property
    def busy(self) -> bool:
        """A status callback is still on its way."""
        return bool(self._tasks)

    def window_passes(self, number: str) -> None:
        """The customer's last message is now more than 24 hours old."""
        digits = number.lstrip("+")
        self._last_inbound[digits] = time.time() - WINDOW_SECONDS - 60

    def fail_next(
        self, status: int, code: int, message: str = "", *, retry_after: str | None = None
    ) -> None:
        """The next ``Messages.json`` call answers this error instead of sending."""
        self._faults.append(Fault(status, code, message or f"error {code}", retry_after))

    # -- the customer's side -----------------------------------------------------------------

    def signed(self, url: str, params: Mapping[str, str]) -> dict[str, str]:
        return {HEADER: sign(self.auth_token, url, list(params.items()))}

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
        """A customer (``+<digits>``) writes to the sender (or ``to``); the signed inbound
        webhook is posted to the bot and its answer returned. ``signature``: ``"good"``,
        None (header left out) or any other value sent as the header."""
        digits = number.lstrip("+")
        sid = ("MM" if media else "SM") + secrets.token_hex(16)
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "From": f"whatsapp:+{digits}",
            "To": to or self.sender,
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
        self._last_inbound[digits] = time.time()
        headers = self.signed(self.webhook_url, params)
        if signature is None:
            headers = {}
        elif signature != "good":
            headers = {HEADER: signature}
        return await self._post(self.webhook_url, params, headers)

    def inbox(self, number: str) -> list[str]:
        """What the customer's phone received: the bodies sent to them."""
        to = f"whatsapp:+{number.lstrip('+')}"
        return [form.get("Body", "") for form in self.sent if form["To"] == to]

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
                "friendly_name": "Empfang Test Account",
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
        if sender != self.sender:
            return self._error(
                400, 63007, "Twilio could not find a Channel with the specified From address"
            )
        if not body and not form.get("MediaUrl"):
            return self._error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            return self._error(400, 21617, "The concatenated message body exceeds the limit.")
        sid = "SM" + secrets.token_hex(16)
        self.sent.append(form)
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

    def _later(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _window_open(self, to: str) -> bool:
        wrote = self._last_inbound.get(to.removeprefix("whatsapp:+"))
        return wrote is not None and time.time() - wrote < WINDOW_SECONDS

    async def _report(self, sid: str, form: Mapping[str, str]) -> None:
        if not self._window_open(form["To"]):
            steps: list[tuple[str, str | None]] = [("failed", "63016")]
        else:
            steps = [("sent", None), ("delivered", None)]
            if self.read_receipts:
                steps.append(("read", None))
        for status, code in steps:
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
            url = form["StatusCallback"]
            await self._post(url, params, self.signed(url, params))

    async def _post(self, url: str, params: dict[str, str], headers: dict[str, str]) -> Callback:
        async with httpx.AsyncClient(timeout=15.0) as client:
            response = await client.post(url, data=params, headers=headers)
        callback = Callback(params, response.status_code, response.text)
        self.callbacks.append(callback)
        return callback
