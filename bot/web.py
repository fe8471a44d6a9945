"""HTTP endpoints on aiohttp.web. Thin: verify → hand to intake → answer.

``POST /webhooks/whatsapp`` (Twilio: ``/webhooks/twilio``, a :class:`WebhookRoute` of its
own; both are served when numbers of both providers are configured) answers 200 only after
the batch is committed; every refusal gets a specific status and a one-line reason, and
nothing of a refused request is stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.bad_http import RefusalLog, unquoted_expectation
from bot.errors import PayloadError, SignatureError, StoreError
from bot.foreign_numbers import ForeignNumbers
from bot.intake import Intake
from bot.logfilter import mask_log_text
from bot.metrics import Metrics
from bot.ports import WebhookReceiver
from bot.store import Store

log = logging.getLogger("empfang.web")

WEBHOOK_PATH = "/webhooks/whatsapp"


@dataclass(frozen=True)
class WebhookRoute:
    """How one provider's webhooks arrive: the path, the header its signature comes in,
    and the body an accepted delivery is answered with."""

    path: str = WEBHOOK_PATH
    signature_header: str = "X-Hub-Signature-256"
    ack: str = "ok"
    ack_type: str = "text/plain"


CLOUD_ROUTE = WebhookRoute()


class WebhookWatcher(Protocol):
    """Told about refused signatures and accepted deliveries (on-call alerts)."""

    async def signature_failed(self, error: SignatureError) -> None: ...

    async def webhook_accepted(self) -> None: ...


class WebhookHandlers:
    def __init__(
        self,
        *,
        provider: WebhookReceiver,
        intake: Intake,
        metrics: Metrics,
        max_body_bytes: int,
        watcher: WebhookWatcher | None = None,
        route: WebhookRoute = CLOUD_ROUTE,
    ) -> None:
        self._provider = provider
        self.route = route
        self._refusals = RefusalLog("webhook")
        """Unsigned requests are refused too: one line a minute per reason, not per request."""
        self._intake = intake
        self._metrics = metrics
        self._max_body = max_body_bytes
        self.watcher = watcher
        self._foreign = ForeignNumbers(metrics)

    @property
    def metrics(self) -> Metrics:
        return self._metrics

    async def verify(self, request: web.Request) -> web.Response:
        query = request.query
        if self._provider.verify_challenge(query.get("hub.mode"), query.get("hub.verify_token")):
            return web.Response(text=query.get("hub.challenge", ""), content_type="text/plain")
        log.warning("webhook verification refused: wrong hub.verify_token or hub.mode")
        return web.Response(status=403, text="verify token mismatch")

    async def receive(self, request: web.Request) -> web.Response:
        """Every answer is 200, 400, 401, 403, 413 or 503 (the server's limits add 408 and
        415); the whole delivery is one decision, stored whole or not at all."""
        started = time.perf_counter()
        if request.content_length is not None and request.content_length > self._max_body:
            return self._refuse(413, f"body larger than {self._max_body} bytes")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._refuse(413, f"body larger than {self._max_body} bytes")
        try:
            batch = self._provider.parse(body, request.headers.get(self.route.signature_header))
        except SignatureError as exc:
            if self.watcher is not None:
                await self.watcher.signature_failed(exc)
            return self._refuse(exc.status, str(exc))
        except PayloadError as exc:
            return self._refuse(exc.status, str(exc))
        try:
            result = await self._intake.accept(batch)
        except StoreError as exc:
            return self._refuse(503, str(exc))
        if self.watcher is not None:
            await self.watcher.webhook_accepted()
        self._metrics.count("webhooks", "accepted")
        self._metrics.count("messages", "new", result.new_messages)
        self._metrics.count("messages", "duplicate", result.duplicates)
        self._metrics.count("messages", "ignored", result.unsupported)
        self._metrics.count("statuses", "new", result.new_statuses)
        self._foreign.note(batch.foreign)
        self._metrics.webhook_ack_seconds.observe(time.perf_counter() - started)
        return web.Response(text=self.route.ack, content_type=self.route.ack_type)

    def _refuse(self, status: int, reason: str) -> web.Response:
        self._metrics.count("webhooks", f"refused_{status}")
        # Masked before escaping: escaping turns a zero-width separator into "\u200b", which
        # would split the number into runs too short for the mask to see.
        shown = printable(mask_log_text(reason))
        self._refusals.refused(status, shown)
        return web.Response(status=status, text=shown)


def printable(text: str, limit: int = 200) -> str:
    """``text`` safe for one log line and an answer: a reason may quote the request, and a
    newline in it would forge a log line; control characters are escaped, length capped."""
    escaped = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text[:limit])
    return escaped + ("…" if len(text) > limit else "")


def safety_net(metrics: Metrics) -> Any:
    """Answers 503 (Meta retries) for an error no handler expected, and logs each kind once
    with its traceback; the causes are fixed where they arise, this only keeps one unknown
    from becoming a 500 and a log line per request."""
    seen: set[tuple[str, str]] = set()

    @web.middleware
    async def catch(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            kind = (request.path, type(exc).__name__)
            metrics.count("webhooks", "refused_503")
            if kind not in seen:
                seen.add(kind)
                log.exception("unexpected %s on %s; answered 503", kind[1], kind[0])
            return web.Response(status=503, text="temporarily unavailable")

    return catch


READY_TIMEOUT = 5.0
"""Seconds ``/readyz`` waits for a write to the store: a database cut off by the network
sends no error, and a load balancer's probe must get its 503 before its own timeout."""


class Health:
    """``database_reachable`` (``bot.ha.Replica``, with PostgreSQL): whether this replica's
    lease heartbeat reached the database lately, asked before the store's write probe."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        provider_configured: bool,
        database_reachable: Callable[[], bool] | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._provider_configured = provider_configured
        self._database_reachable = database_reachable

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(self, request: web.Request) -> web.Response:
        problems = []
        if self._database_reachable is not None and not self._database_reachable():
            problems.append("database not reachable")
        elif not await self._writable():
            problems.append("store not writable")
        if not self._provider_configured:
            problems.append("whatsapp provider not configured")
        if problems:
            return web.Response(status=503, text="; ".join(problems))
        return web.Response(text="ready")

    async def _writable(self) -> bool:
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                return await self._store.writable()
        except TimeoutError:
            return False

    async def metrics(self, request: web.Request) -> web.Response:
        await self._count_jobs()
        body, content_type = self._metrics.render(request.headers.get("Accept"))
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def _count_jobs(self) -> None:
        """Refresh the job gauges if the store answers; if it does not, the scrape still
        answers with everything else. A database outage is when on-call reads
        ``empfang_ha_*`` most: a 503 there hid the very gauges that would show it (and was
        counted as a refused webhook). The job gauges then keep their last values."""
        if self._database_reachable is not None and not self._database_reachable():
            return
        unavailable: tuple[type[Exception], ...] = (TimeoutError, *self._store.unavailable)
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                async with self._store.transaction() as tx:
                    counts = await tx.jobs.states(tx.clock.now())
        except unavailable as error:
            log.debug("/metrics: job counts not refreshed (%s)", type(error).__name__)
            return
        self._metrics.set_jobs(counts)


def build_web_app(
    webhooks: Sequence[WebhookHandlers],
    health: Health,
    *,
    metrics: Metrics,
    max_body_bytes: int,
    middlewares: Sequence[Any] = (),
) -> web.Application:
    """The aiohttp application with one webhook endpoint per provider in use (Cloud API and
    Twilio side by side when numbers of both are configured); chat adapters may add their
    own routes (Slack HTTP mode). ``middlewares`` are the server's limits
    (``bot.http_server``), inside the safety net."""
    app = web.Application(
        client_max_size=max_body_bytes,
        middlewares=[safety_net(metrics), *middlewares],
    )
    for endpoint in webhooks:
        app.router.add_get(endpoint.route.path, endpoint.verify)
        app.router.add_post(endpoint.route.path, endpoint.receive)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", health.metrics)
    app.on_response_prepare.append(unquoted_expectation)
    return app
