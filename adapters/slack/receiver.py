"""How Slack reaches the bot: bolt's ``AsyncApp`` over Socket Mode or the HTTP Events API.

Both transports end in ``AsyncApp.async_dispatch``, so ``url_verification``, ignoring the
bot's own events and listener dispatch are bolt's, identical in both modes. This module adds:

* HTTP mode: the v0 signature and its 5-minute window checked over the raw bytes before
  bolt sees a request (401 otherwise): bolt would log an unverified body whole and answer a
  timestamp that is not a number with a traceback and a 500; then the body's shape
  (``inbound``: 400 for a field of the wrong type, before a listener trips over it);
* an exception in a listener answered 503 (store or Slack unavailable) or 400, a request
  no listener wants 200 (``failures``), never bolt's 500 or 404;
* HTTP mode: the echo of the bot's own post (Slack sends one ``message`` event per post)
  answered 200 before bolt, which would only ignore it after building a request, a context
  and its middleware chain for it (~0.2 ms of CPU per relayed message);

* acknowledging only after the relay stored the event (``process_before_response``): an
  event that could not be stored gets no 2xx / no ack, so Slack delivers it again;
* recognising redeliveries by ``event_id`` (``X-Slack-Retry-Num`` in HTTP mode,
  ``retry_attempt`` in Socket Mode) so an event is processed once, also when the retry
  arrives while the first delivery is still being processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import errors, inbound
from adapters.slack.blocks import ACTIONS
from adapters.slack.failures import NO_RETRY, Failures
from bot.errors import PlatformError

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

log = logging.getLogger("empfang.slack")

EVENTS_PATH = "/slack/events"
INTERACTIVITY_PATH = "/slack/interactivity"
CONNECT_TIMEOUT_SECONDS = 20.0
STOP_GRACE_SECONDS = 5.0

MessageHandler = Callable[[dict[str, Any]], Awaitable[None]]
OwnMessage = Callable[[dict[str, Any]], bool]
"""Whether a message event is the bot's own post (by its user or bot id)."""
ActionHandler = Callable[[dict[str, Any]], Awaitable[str | None]]
"""Handles a button press; a returned text is shown to the presser only (ephemeral)."""


def _sdk_logger() -> logging.Logger:
    """bolt's and the Socket Mode client's logger. Held at INFO: their DEBUG lines print
    whole envelopes, i.e. what agents wrote, which does not belong in logs."""
    logger = logging.getLogger("empfang.slack.sdk")
    logger.setLevel(logging.INFO)
    return logger


class EventLedger:
    """Event ids being processed or done (bounded), so a redelivery is answered, not redone.

    An id whose processing failed is forgotten again: its redelivery must be processed.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def claim(self, event_id: str) -> bool:
        """True if this delivery should be processed (first time the id is seen)."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True

    def release(self, event_id: str) -> None:
        self._ids.pop(event_id, None)


class Receiver:
    """Owns the bolt app; ``start`` connects Socket Mode (HTTP mode needs nothing to start,
    its routes are registered on the bot's web application at construction)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        app_token: str | None,
        signing_secret: str | None,
        web_app: web.Application | None,
        on_message: MessageHandler,
        on_action: ActionHandler,
        is_own: OwnMessage,
    ) -> None:
        if app_token is None and (signing_secret is None or web_app is None):
            raise PlatformError(
                "Slack HTTP mode needs slack.signing_secret and the bot's web server",
                retryable=False,
            )
        self.mode = "socket" if app_token else "http"
        self._client = client
        self._app_token = app_token
        self._on_message = on_message
        self._on_action = on_action
        self._is_own = is_own
        self._events = EventLedger()
        self._handler: AsyncSocketModeHandler | None = None
        self._secret = signing_secret.encode() if signing_secret else None
        self._failures = Failures()
        self.app = AsyncApp(
            # Named, as bolt otherwise names the app after its caller's file through
            # ``inspect.stack()``, which reads every source file on the stack into linecache
            # for good (~0.5 MiB of an idle bot's memory).
            name="empfang",
            client=client,
            signing_secret=signing_secret or None,
            process_before_response=True,
            # HTTP mode: verified in ``_http`` before bolt sees the request, as bolt logs an
            # unverified body whole and fails with a traceback on a timestamp not a number.
            request_verification_enabled=False,
            logger=_sdk_logger(),
            # Into ``_failed`` (answered 200) instead of a 404 Slack would deliver again.
            raise_error_for_unhandled_request=True,
        )
        self.app.error(self._failed)
        self.app.middleware(self._dedupe)
        for event_type in inbound.EVENT_TYPES:
            self.app.event(event_type)(self._message)
        self.app.action(re.compile(f"^({'|'.join(ACTIONS)})$"))(self._action)
        self._started = False
        self._busy = 0
        self._idle = asyncio.Event()
        if self.mode == "http":
            assert web_app is not None
            web_app.router.add_post(EVENTS_PATH, self._http)
            web_app.router.add_post(INTERACTIVITY_PATH, self._http)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._started = True
        if self.mode == "socket":
            await self._connect_socket()

    async def stop(self) -> None:
        """Take no new events, then let those being processed finish (they need the store,
        which the bot closes next); an unfinished one was not acked and comes again."""
        self._started = False
        handler, self._handler = self._handler, None
        if handler is not None:
            await handler.close_async()  # type: ignore[no-untyped-call]
        if self._busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), STOP_GRACE_SECONDS)

    async def _connect_socket(self) -> None:
        """Open the WebSocket. The URL is fetched here first, so a bad app token fails
        ``start`` with Slack's error instead of the SDK retrying it forever. The Socket Mode
        client is imported here, which a bot in HTTP mode never needs."""
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        assert self._app_token is not None
        with errors.translated("apps.connections.open"):
            opened = await self._client.apps_connections_open(app_token=self._app_token)
        handler = AsyncSocketModeHandler(self.app, self._app_token, web_client=self._client)
        handler.client.wss_uri = str(opened["url"])
        try:
            connecting = handler.connect_async()  # type: ignore[no-untyped-call]
            await asyncio.wait_for(connecting, CONNECT_TIMEOUT_SECONDS)
        except TimeoutError as exc:
            await handler.close_async()  # type: ignore[no-untyped-call]
            raise PlatformError("Slack Socket Mode: WebSocket did not connect") from exc
        self._handler = handler
        log.info("slack: Socket Mode connected")

    # -- HTTP mode ----------------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.StreamResponse:
        """Verify, check the body's shape (:mod:`adapters.slack.inbound`), then bolt; 503
        until started, so Slack retries instead of having an event acknowledged that
        nobody stored."""
        if not self._started:
            return web.Response(status=503, text="not ready")
        body = await request.read()
        if not self._signed(body, request.headers):
            # Anyone can send this: nothing of it is logged but its size.
            log.info("slack: request refused: no valid signature (%d bytes)", len(body))
            return web.Response(status=401, text="invalid request")
        # As bolt reads them: the last of a repeated header wins.
        headers: dict[str, str | Sequence[str]] = {
            name.lower(): value for name, value in request.headers.items()
        }
        content_type = request.headers.getall("Content-Type", [""])[-1].split(";")[0] or None
        try:
            doc = inbound.checked_body(body, content_type)
            if self._own_echo(doc):
                return web.Response(status=200)
            bolt_request = AsyncBoltRequest(
                body=body.decode(), query=request.query_string, headers=headers
            )
            answer = await self.app.async_dispatch(bolt_request)
        except inbound.MalformedRequest as exc:
            return self._malformed(str(exc), len(body))
        except Exception as exc:
            # bolt's own reading of a body the schema let through (listeners' exceptions
            # reach ``_failed`` instead): found by the fuzz once, refused by the schema since.
            self._failures.note(exc, 400)
            return self._malformed("bolt could not read the body", len(body))
        return await to_aiohttp_response(answer)

    @staticmethod
    def _malformed(reason: str, size: int) -> web.Response:
        """400 naming the field by the schema's name for it, never the request's content;
        Slack is told not to retry what would fail the same way."""
        log.info("slack: signed request refused: %s (%d bytes)", reason, size)
        return web.Response(status=400, text=reason, headers=NO_RETRY)

    def _signed(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Slack's v0 signature over timestamp and body, the timestamp within 5 minutes."""
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        return self._secret is not None and inbound.signed(
            self._secret, body, timestamp, signature, time.time()
        )

    def _own_echo(self, doc: dict[str, Any]) -> bool:
        """A ``message`` event of the bot's own post: bolt's ``ignoring_self_events`` would
        drop it (it keeps only member joins and leaves of the bot's own)."""
        event = doc.get("event")
        return (
            isinstance(event, dict)
            and doc.get("type") == "event_callback"
            and event.get("type") == "message"
            and self._is_own(event)
        )

    # -- bolt listeners -----------------------------------------------------------------------

    async def _failed(self, error: Exception) -> BoltResponse:
        """bolt's global error handler: what a listener or middleware raised, answered."""
        return self._failures.response(error)

    async def _dedupe(
        self,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[None]],  # bolt injects arguments by name
    ) -> BoltResponse:
        """Global middleware (runs after bolt verified the request): answer a redelivered
        event without processing it. ``_message`` forgets the id again if processing fails."""
        event_id = req.body.get("event_id") if isinstance(req.body, dict) else None
        if isinstance(event_id, str) and not self._events.claim(event_id):
            retry = (req.headers.get("x-slack-retry-num") or ["0"])[0]
            log.info(
                "slack: event %s delivered again (retry %s); not processed twice",
                inbound.shown(event_id),
                inbound.shown(retry),
            )
            return BoltResponse(status=200, body="")
        await next()
        return resp

    @contextlib.contextmanager
    def _working(self) -> Iterator[None]:
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def _message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        try:
            with self._working():
                await self._on_message(event)
        except BaseException:
            # Not stored: the answer is an error, and the redelivery must be processed.
            event_id = body.get("event_id")
            if isinstance(event_id, str):
                self._events.release(event_id)
            raise

    async def _action(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        with self._working():
            notice = await self._on_action(body)
        await ack()
        if notice is not None:
            await self._ephemeral(body, notice)

    async def _ephemeral(self, body: dict[str, Any], text: str) -> None:
        channel = (body.get("container") or {}).get("channel_id")
        user = (body.get("user") or {}).get("id")
        if not channel or not user:
            return
        try:
            await self._client.chat_postEphemeral(channel=channel, user=user, text=text)
        except errors.SLACK_ERRORS as exc:
            error = errors.from_exception("chat.postEphemeral", exc)
            log.warning("slack: ephemeral notice failed (%s)", error)
