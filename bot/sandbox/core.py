"""The sandbox's behaviour, independent of HTTP: what Meta does and what a phone does.

:class:`Sandbox` is used two ways with one implementation: the aiohttp routes
(:mod:`bot.sandbox.routes`) translate requests into calls on it, and tests in the same event
loop call the same methods directly. Graph-side methods raise
:class:`~bot.sandbox.errors.GraphError`, driver-side methods
:class:`~bot.sandbox.errors.DriverRequestError`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Sequence
from typing import Any

from bot.clock import Clock
from bot.config import Settings
from bot.config.twilio import WEBHOOK_PATH as TWILIO_WEBHOOK_PATH
from bot.sandbox import payloads as p
from bot.sandbox.delivery import Background, WebhookDeliverer
from bot.sandbox.driver import BuildContext, build_customer_message, number_or_error
from bot.sandbox.errors import DriverRequestError, GraphError
from bot.sandbox.faults import Faults
from bot.sandbox.graph import (
    ReadRequest,
    SubscribedApp,
    download_error,
    invalid_token,
    invalid_value,
    missing_param,
    parse_messages_body,
    phone_number_object,
    subscribed_apps_body,
    unknown_object,
)
from bot.sandbox.limits import Throttle
from bot.sandbox.media import (
    MediaItem,
    MediaStore,
    check_upload,
    is_static_webp,
    media_facts,
)
from bot.sandbox.options import Options, SandboxClock
from bot.sandbox.payloads import JSON, BusinessNumber
from bot.sandbox.phone import DEFAULT_PROFILE_NAME, Phones, masked
from bot.sandbox.templates import SandboxTemplates
from bot.sandbox.twilio import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_SENDER,
    TwilioAccount,
)

log = logging.getLogger("bot.sandbox")

# Used only where the config leaves a value empty, so `empfang sandbox` works out of the box.
DEFAULT_PHONE_NUMBER_ID = "110000000000001"
DEFAULT_WABA_ID = "120000000000001"
DEFAULT_DISPLAY_PHONE_NUMBER = "15555550100"  # 555-0100: a fictional number by convention
DEFAULT_VERIFIED_NAME = "Empfang Sandbox"
SANDBOX_APP = SubscribedApp(app_id="130000000000001", name="Empfang Sandbox")
"""The app the sandbox's account is subscribed to, as if set up by the README's steps."""
DEFAULT_ACCESS_TOKEN = "sandbox-access-token"
DEFAULT_APP_SECRET = "sandbox-app-secret"
DEFAULT_VERIFY_TOKEN = "sandbox-verify-token"
DELIVERY_TIMEOUT_SECONDS = 10.0


def url_host(bind_host: str) -> str:
    """A bind address as it goes into a URL: wildcards become loopback, IPv6 gets brackets."""
    if bind_host in {"", "0.0.0.0"}:
        return "127.0.0.1"
    if bind_host == "::":
        return "[::1]"
    if ":" in bind_host:
        return f"[{bind_host}]"
    return bind_host


def default_webhook_url(settings: Settings) -> str:
    """Where the bot from the same config listens."""
    host = url_host(settings.server.host)
    return f"http://{host}:{settings.server.port}/webhooks/whatsapp"


def twilio_account(
    settings: Settings, clock: SandboxClock, background: Background
) -> TwilioAccount:
    """The sandbox's Twilio account: ``[twilio]``'s credentials (the sandbox's own where
    empty) and every ``[[numbers]]`` sender of provider ``twilio`` (else ``[twilio]
    from_number``, else 555-0199); it delivers to the URL the bot checks signatures over
    (``[twilio] webhook_url``, else ``server.public_url``'s, else the bot's own address)."""
    tw = settings.twilio
    senders = [n.number_id for n in settings.configured_numbers() if n.provider == "twilio"]
    host = url_host(settings.server.host)
    return TwilioAccount(
        account_sid=tw.account_sid or DEFAULT_ACCOUNT_SID,
        auth_token=tw.auth_token.get_secret_value() or DEFAULT_AUTH_TOKEN,
        senders=tuple(dict.fromkeys(senders)) or (tw.from_number or DEFAULT_SENDER,),
        webhook_url=tw.signed_url(settings.server.public_url)
        or f"http://{host}:{settings.server.port}{TWILIO_WEBHOOK_PATH}",
        clock=clock.now,
        background=background,
        status_delay=settings.sandbox.status_delay_seconds,
    )


def _more_numbers(settings: Settings, first: BusinessNumber) -> list[BusinessNumber]:
    """The other ``[[numbers]]`` the sandbox provider answers for, in the same account, each
    with a fictional display number of its own (555-0101, 555-0102, …)."""
    ids = [
        n.number_id
        for n in settings.configured_numbers()
        if n.provider == "sandbox" and n.number_id and n.number_id != first.phone_number_id
    ]
    return [
        BusinessNumber(
            waba_id=first.waba_id,
            phone_number_id=number_id,
            display_phone_number=str(int(first.display_phone_number) + index),
        )
        for index, number_id in enumerate(dict.fromkeys(ids), 1)
    ]


class Sandbox:
    """State and behaviour of one business number and all simulated customers."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        waba_id: str | None = None,
        display_phone_number: str | None = None,
        delivery_timeout: float = DELIVERY_TIMEOUT_SECONDS,
    ) -> None:
        wa = settings.whatsapp
        self.settings = settings
        self.options = Options(settings.sandbox)
        self.clock = SandboxClock(clock)
        self.business = BusinessNumber(
            waba_id=waba_id or wa.waba_id or DEFAULT_WABA_ID,
            phone_number_id=wa.phone_number_id or DEFAULT_PHONE_NUMBER_ID,
            display_phone_number=display_phone_number or DEFAULT_DISPLAY_PHONE_NUMBER,
        )
        self.access_token = wa.access_token.get_secret_value() or DEFAULT_ACCESS_TOKEN
        self.app_secret = wa.app_secret.get_secret_value() or DEFAULT_APP_SECRET
        self.verify_token = wa.verify_token.get_secret_value() or DEFAULT_VERIFY_TOKEN
        self._default_webhook = default_webhook_url(settings)
        self.base_url = ""
        self.background = Background()
        self.media = MediaStore(self.clock)
        self.deliverer = WebhookDeliverer(
            options=self.options,
            app_secret=self.app_secret,
            target=lambda: self.webhook_url,
            clock=self.clock,
            background=self.background,
            timeout=delivery_timeout,
        )
        rng = rng or random.Random()
        self.lines = {
            number.phone_number_id: Phones(
                business=number,
                options=self.options,
                clock=self.clock,
                deliverer=self.deliverer,
                background=self.background,
                rng=rng,
            )
            for number in [self.business, *_more_numbers(settings, self.business)]
        }
        """Each business number's chats with customers, by ``phone_number_id``: a customer
        who writes to two numbers has two chats, each with its own window and messages."""
        self.phones = self.lines[self.business.phone_number_id]
        """The first number's (``[whatsapp] phone_number_id``)."""
        self._throttle = Throttle(self.clock, self.options.section)
        self.faults = Faults(self.clock)
        self.templates = SandboxTemplates()
        self.subscribed_apps = [SANDBOX_APP]
        self.twilio = twilio_account(settings, self.clock, self.background)
        """The Twilio side: numbers that speak Twilio's wire format (``bot.sandbox.twilio``)."""

    @property
    def webhook_url(self) -> str:
        return self.options.section.webhook_url or self._default_webhook

    @property
    def graph_url(self) -> str:
        """What the bot uses as ``whatsapp.api_base``."""
        return f"{self.base_url}/{self.options.section.api_version}"

    # -- Graph side -------------------------------------------------------------------------

    def authorize(self, authorization: str | None, query_token: str | None = None) -> None:
        """``Authorization: Bearer <token>`` (or ``?access_token=``) must be the configured one."""
        token = query_token
        if authorization is not None:
            scheme, _, value = authorization.partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else None
        if token is None or not secrets.compare_digest(token.encode(), self.access_token.encode()):
            raise invalid_token()

    def line(self, phone_number_id: str) -> Phones:
        """The chats of one of the hosted business numbers; Meta's answer for any other id."""
        found = self.lines.get(phone_number_id)
        if found is None:
            raise unknown_object(phone_number_id)
        return found

    def check_phone_number(self, phone_number_id: str) -> None:
        self.line(phone_number_id)

    def send(self, phone_number_id: str, body: Any) -> JSON:
        """``POST /{phone_number_id}/messages`` after authorization: the §6 success body."""
        phones = self.line(phone_number_id)
        self.faults.check(retry_after_header=self.options.retry_after_header)
        request = parse_messages_body(body)
        if isinstance(request, ReadRequest):
            if not phones.mark_read_by_business(request):
                raise invalid_value(f"Invalid message_id {request.message_id!r}")
            return {"success": True}
        if request.media_id is not None and self.media.get(request.media_id) is None:
            raise invalid_value(f"Param {request.type}['id'] is not a valid media id")
        category = self.templates.check_send(request.body) if request.is_template else None
        self._throttle.acquire(request.wa_id, retry_after_header=self.options.retry_after_header)
        outbound = phones.accept(request, template_category=category)
        message: JSON = {"id": outbound.wamid}
        if request.is_template:
            message["message_status"] = "accepted"
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": request.to, "wa_id": request.wa_id}],
            "messages": [message],
        }

    def upload(
        self,
        phone_number_id: str,
        fields: dict[str, str],
        file: tuple[bytes, str | None] | None,
    ) -> JSON:
        """``POST /{phone_number_id}/media`` (multipart); ``file`` is (content, filename)."""
        self.check_phone_number(phone_number_id)
        if fields.get("messaging_product") is None:
            raise missing_param("messaging_product")
        if fields["messaging_product"] != "whatsapp":
            raise invalid_value("Param messaging_product must be whatsapp")
        if file is None:
            raise missing_param("file")
        mime_type = fields.get("type")
        if not mime_type:
            raise missing_param("type")
        content, filename = file
        check_upload(mime_type, len(content), static_sticker=is_static_webp(content))
        item = self.media.add(content, mime_type, filename=filename)
        return {"id": item.media_id}

    def graph_object(self, object_id: str, phone_number_id: str | None = None) -> JSON:
        """``GET /{id}``: the business number's own node, else a media item."""
        if object_id in self.lines:
            return phone_number_object(self.lines[object_id].business, DEFAULT_VERIFIED_NAME)
        return self.media_info(object_id, phone_number_id)

    def _check_waba(self, waba_id: str, method: str) -> None:
        if waba_id != self.business.waba_id:
            raise unknown_object(waba_id, method)

    def message_templates(self, waba_id: str, query: dict[str, str]) -> JSON:
        """``GET /{waba_id}/message_templates``: one page of the template catalogue."""
        self._check_waba(waba_id, "get")
        return self.templates.page(query, f"{self.graph_url}/{waba_id}/message_templates")

    def list_subscribed_apps(self, waba_id: str) -> JSON:
        """``GET /{waba_id}/subscribed_apps``."""
        self._check_waba(waba_id, "get")
        return subscribed_apps_body(self.subscribed_apps)

    def subscribe_app(self, waba_id: str) -> JSON:
        """``POST /{waba_id}/subscribed_apps``: the token's app (here: the sandbox's) subscribes."""
        self._check_waba(waba_id, "post")
        if SANDBOX_APP not in self.subscribed_apps:
            self.subscribed_apps.append(SANDBOX_APP)
        return {"success": True}

    def unsubscribe_app(self, waba_id: str) -> JSON:
        """``DELETE /{waba_id}/subscribed_apps``: Meta stops sending this account's webhooks."""
        self._check_waba(waba_id, "delete")
        if SANDBOX_APP in self.subscribed_apps:
            self.subscribed_apps.remove(SANDBOX_APP)
        return {"success": True}

    def media_info(self, media_id: str, phone_number_id: str | None = None) -> JSON:
        item = self.media.get(media_id)
        if item is None or (phone_number_id is not None and phone_number_id not in self.lines):
            raise unknown_object(media_id, "get")
        if item.failing:
            raise download_error("Unable to download the media sent by the user.")
        return {
            "messaging_product": "whatsapp",
            "url": self.media.url_for(item, self.base_url),
            "mime_type": item.mime_type,
            "sha256": item.sha256_hex,
            "file_size": len(item.content),
            "id": item.media_id,
        }

    def delete_media(self, media_id: str) -> JSON:
        if self.media.get(media_id) is None or not self.media.delete(media_id):
            raise unknown_object(media_id, "delete")
        return {"success": True}

    def download(self, mid: str, ext: str, digest: str, authorization: str | None) -> MediaItem:
        """``GET <url>``: the Bearer token is required, as on Meta's media host."""
        self.authorize(authorization)
        return self.media.resolve(mid, ext, digest)

    # -- driver side ------------------------------------------------------------------------

    def send_message(self, spec: Any) -> str:
        """A customer sends a message (driver request shape); returns the inbound wamid, or
        the MessageSid when ``to`` is one of the Twilio senders."""
        if isinstance(spec, dict) and spec.get("to") in self.twilio.senders:
            return self._twilio_message(spec)
        sender = spec.get("from") if isinstance(spec, dict) else None
        wamid = p.new_wamid(number_or_error(sender, "from"))
        phones = self.chat_with(spec.get("to"), "to")
        built = build_customer_message(
            {key: value for key, value in spec.items() if key != "to"},
            BuildContext(
                business=phones.business,
                media=self.media,
                media_origin=self.base_url,
                wamid=wamid,
                timestamp=phones.timestamp(),
                last_outbound=phones.last_outbound,
            ),
        )
        wamid = str(built.message.get("id", wamid))
        customer = phones.record_inbound(built.wa_id, built.name, wamid)
        contact = built.contact or p.contact_profile(
            built.wa_id, customer.name or DEFAULT_PROFILE_NAME
        )
        payload = p.messages_webhook(phones.business, [contact], [built.message])
        log.info("customer %s sent %s", masked(built.wa_id), built.message.get("type"))
        self.deliverer.submit(payload, lane=built.wa_id, kind="messages", message_ids=[wamid])
        return wamid

    def _twilio_message(self, spec: JSON) -> str:
        """A customer writes to a Twilio sender: a text, or a file put on the phone
        (``media_id``) with its caption; delivered as Twilio's signed form webhook."""
        number = number_or_error(spec.get("from"), "from")
        kind = spec.get("type", "text")
        name = spec.get("name")
        if name is not None and not isinstance(name, str):
            raise DriverRequestError("name: must be a string")
        if kind == "text":
            text, media = spec.get("text"), None
        else:
            item = self.media.get(str(spec.get("media_id", "")))
            if item is None:
                raise DriverRequestError(
                    f"{kind}: a Twilio number takes text, or a file put on the phone (media_id)"
                )
            text, media = spec.get("caption", ""), (item.content, item.mime_type)
        if not isinstance(text, str):
            raise DriverRequestError("text: required, a string")
        sid = self.twilio.customer_says_later(
            number, text, name=name, media=media, to=str(spec["to"])
        )
        log.info("customer %s wrote to a Twilio number (%s)", masked(number), kind)
        return sid

    def chat_with(self, business: object, key: str = "business") -> Phones:
        """The chats of the business number a driver request names under ``key`` (a
        ``phone_number_id``; None: the first number)."""
        if business is None:
            return self.phones
        if not isinstance(business, str) or business not in self.lines:
            raise DriverRequestError(f"{key}: not a business number of this sandbox: {business!r}")
        return self.lines[business]

    def say(
        self,
        sender: str,
        text: str,
        *,
        name: str | None = None,
        reply_to: str | None = None,
        to: str | None = None,
    ) -> str:
        """Shortcut for a text message from ``sender`` (to business number ``to``)."""
        spec: JSON = {"from": sender, "type": "text", "text": text}
        if to is not None:
            spec["to"] = to
        if name is not None:
            spec["name"] = name
        if reply_to is not None:
            spec["reply_to"] = reply_to
        return self.send_message(spec)

    def put_on_phone(self, content: bytes, mime_type: str, filename: str | None) -> JSON:
        """A file on the customer's phone, checked like WhatsApp checks what it carries;
        send it with ``{"type": …, "media_id": …}`` (``empfang sandbox say --file``)."""
        try:
            check_upload(mime_type, len(content), static_sticker=is_static_webp(content))
        except GraphError as exc:  # reword Meta's answer for the driver
            raise DriverRequestError(f"file: {exc.details or exc}") from exc
        item = self.media.add(content, mime_type, filename=filename, inbound=True)
        return {"media_id": item.media_id, **media_facts(item)}

    def post_webhook(self, payload: Any) -> None:
        """Deliver an arbitrary body as-is (signed): unknown fields, batches, odd shapes."""
        if not isinstance(payload, dict):
            raise DriverRequestError("expected a JSON object as the webhook body")
        self.deliverer.submit(payload, lane="raw", kind="raw", message_ids=[])

    def _wa_id(self, number: str) -> str:
        return number_or_error(number, "number")

    def inbox(self, number: str, business: str | None = None) -> JSON:
        """The phone's view of its chat with one business number (``phone_number_id``, the
        first without; a Twilio sender ``whatsapp:+…``: its messages' sids, texts and
        statuses), each media message with what arrived: type, size, sha256."""
        if business in self.twilio.senders:
            return self.twilio.chat_view(self._wa_id(number), str(business))
        view = self.chat_with(business).inbox(self._wa_id(number))
        for message in view["messages"]:
            item = self.media.get(message["media_id"]) if message.get("media_id") else None
            if item is not None:
                message["media"] = media_facts(item)
        return view

    def read(self, number: str) -> list[str]:
        return self.phones.customer_reads(self._wa_id(number))

    def set_unreachable(self, number: str, unreachable: bool = True) -> None:
        wa_id = self._wa_id(number)
        self.phones.customer(wa_id).unreachable = unreachable
        log.info("customer %s unreachable=%s", masked(wa_id), unreachable)

    def set_marketing_stopped(self, number: str, stopped: bool = True) -> None:
        """The customer stops (or allows again) marketing messages from the business."""
        wa_id = self._wa_id(number)
        self.phones.customer(wa_id).marketing_stopped = stopped
        log.info("customer %s marketing_stopped=%s", masked(wa_id), stopped)

    def advance_clock(self, seconds: float) -> float:
        self.clock.advance(seconds)
        return self.clock.now()

    def start_outage(self, statuses: Sequence[int], seconds: float) -> JSON:
        """Answer every send with ``statuses`` in turn for ``seconds`` (``bot.sandbox.faults``)."""
        view = self.faults.start_outage(statuses, seconds)
        log.info("graph outage: %s for %.0f s", "/".join(map(str, statuses)), seconds)
        return view

    def deliveries(self) -> list[JSON]:
        return [record.view() for record in self.deliverer.log]

    def configure(self, **changes: Any) -> JSON:
        """Change knobs at runtime (same names as ``[sandbox]`` plus the runtime-only flags)."""
        self.options.update(changes)
        self._throttle = Throttle(self.clock, self.options.section)
        return self.options.view()

    async def verify_webhook(
        self, *, verify_token: str | None = None, challenge: str | None = None
    ) -> JSON:
        """Make the GET handshake against the bot, as Meta does when the URL is saved."""
        challenge = challenge or str(secrets.randbelow(9 * 10**9) + 10**9)
        return await self.deliverer.verify(verify_token or self.verify_token, challenge)

    async def idle(self, max_wait: float | None = None) -> bool:
        """Wait until every pending delivery and status is done; False after ``max_wait``."""
        try:
            await asyncio.wait_for(self.background.idle(), max_wait)
        except TimeoutError:
            return False
        return True

    async def reset(self) -> None:
        """Forget customers, media, deliveries and an outage; cancel pending work. Knobs stay."""
        await self.background.cancel_all()
        self.twilio.reset()
        for phones in self.lines.values():
            phones.reset()
        self.templates.reset()
        self.media.clear()
        self.deliverer.clear()
        self._throttle = Throttle(self.clock, self.options.section)
        self.faults = Faults(self.clock)

    def info(self) -> JSON:
        return {
            "graph_url": self.graph_url,
            "webhook_url": self.webhook_url,
            "waba_id": self.business.waba_id,
            "phone_number_id": self.business.phone_number_id,
            "display_phone_number": self.business.display_phone_number,
            "twilio": {
                "api_base": self.base_url,
                "account_sid": self.twilio.account_sid,
                "senders": list(self.twilio.senders),
                "webhook_url": self.twilio.webhook_url,
            },
            "now": self.clock.now(),
            "pending": self.background.pending,
        }
