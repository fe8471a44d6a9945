"""Webhook delivery to the bot: signing, redelivery, duplicates, and a log tests can read.

Meta's delivery behaviour is what the bot must survive, so the sandbox reproduces the parts
that break naive receivers: a non-200 answer or a connection error is retried after each
delay in ``sandbox.redelivery_seconds``; ``duplicate_deliveries`` sends every webhook twice.
Deliveries never block the request that caused them. Per customer ("lane") first attempts go
out in the order they were submitted, so a demo's messages arrive in the order typed;
redeliveries do not hold the lane, as on the real API.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.clock import Clock
from bot.sandbox.options import Options
from bot.sandbox.payloads import JSON, signed

log = logging.getLogger("bot.sandbox.delivery")

USER_AGENT = "facebookexternalua"
"""What Meta's webhook requests identify as; some receivers filter or log on it."""
LOG_LIMIT = 2000
"""Deliveries kept for ``GET /sandbox/deliveries``; a long demo must not grow without bound."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for all sandbox HTTP clients: building one costs ~20 ms, and tests
    start a sandbox per test. System CAs, so a bot behind an internal CA is reachable."""
    return ssl.create_default_context()


class Background:
    """Tracks the sandbox's background tasks so ``idle()`` can wait and ``stop()`` can cancel."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=f"sandbox-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sandbox task %s failed", task.get_name(), exc_info=task.exception())

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def idle(self) -> None:
        """Return once no task is left, including tasks spawned while waiting."""
        while True:
            running = {task for task in self._tasks if not task.done()}
            if not running:
                return
            await asyncio.wait(running)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class Attempt:
    at: float
    status_code: int | None
    error: str | None

    def view(self) -> JSON:
        return {"at": self.at, "status_code": self.status_code, "error": self.error}


@dataclass
class DeliveryRecord:
    """One webhook POST (one copy of it) and every attempt made to deliver it."""

    delivery_id: int
    kind: str
    copy: int
    url: str
    payload: JSON
    message_ids: list[str]
    statuses: list[str]
    attempts: list[Attempt] = field(default_factory=list)
    state: str = "pending"

    def view(self) -> JSON:
        return {
            "id": self.delivery_id,
            "kind": self.kind,
            "copy": self.copy,
            "url": self.url,
            "message_ids": self.message_ids,
            "statuses": self.statuses,
            "state": self.state,
            "attempts": [attempt.view() for attempt in self.attempts],
            "payload": self.payload,
        }


class WebhookDeliverer:
    """Signs and POSTs webhooks to the bot, with Meta-like redelivery."""

    def __init__(
        self,
        *,
        options: Options,
        app_secret: str,
        target: Callable[[], str],
        clock: Clock,
        background: Background,
        timeout: float,
    ) -> None:
        self._options = options
        self._secret = app_secret
        self._target = target
        self._clock = clock
        self._background = background
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._lanes: dict[str, asyncio.Lock] = {}
        self._next_id = 1
        self.log: deque[DeliveryRecord] = deque(maxlen=LOG_LIMIT)

    async def start(self) -> None:
        self._client = httpx.AsyncClient(
            timeout=self._timeout, verify=tls_context(), headers={"User-Agent": USER_AGENT}
        )

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("the sandbox is not started")
        return self._client

    def submit(
        self,
        payload: JSON,
        *,
        lane: str,
        kind: str,
        message_ids: list[str],
        statuses: list[str] | None = None,
    ) -> None:
        """Deliver in the background; the caller does not wait for the bot."""
        coro = self.deliver(
            payload, lane=lane, kind=kind, message_ids=message_ids, statuses=statuses
        )
        self._background.spawn(coro, f"deliver-{kind}")

    async def deliver(
        self,
        payload: JSON,
        *,
        lane: str,
        kind: str,
        message_ids: list[str],
        statuses: list[str] | None = None,
    ) -> None:
        """First attempt of every copy now (in lane order); redeliveries in the background."""
        body, headers = signed(payload, self._secret)
        copies = 2 if self._options.section.duplicate_deliveries else 1
        lock = self._lanes.setdefault(lane, asyncio.Lock())
        for copy in range(1, copies + 1):
            record = DeliveryRecord(
                self._next_id, kind, copy, self._target(), payload, message_ids, statuses or []
            )
            self._next_id += 1
            self.log.append(record)
            async with lock:
                delivered = await self._attempt(record, body, headers)
            if not delivered:
                self._background.spawn(self._redeliver(record, body, headers), "redeliver")

    async def _attempt(self, record: DeliveryRecord, body: bytes, headers: dict[str, str]) -> bool:
        status_code: int | None = None
        error: str | None = None
        try:
            response = await self._http().post(record.url, content=body, headers=headers)
            status_code = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        record.attempts.append(Attempt(self._clock.now(), status_code, error))
        if status_code == 200:
            record.state = "delivered"
            return True
        return False

    async def _redeliver(
        self, record: DeliveryRecord, body: bytes, headers: dict[str, str]
    ) -> None:
        for delay in list(self._options.section.redelivery_seconds):
            await asyncio.sleep(delay)
            if await self._attempt(record, body, headers):
                return
        record.state = "gave_up"
        last = record.attempts[-1]
        log.warning(
            "webhook delivery %d (%s) gave up after %d attempts; last answer: %s",
            record.delivery_id,
            record.kind,
            len(record.attempts),
            last.status_code if last.status_code is not None else last.error,
        )

    async def verify(self, verify_token: str, challenge: str) -> JSON:
        """The GET handshake Meta makes when a callback URL is saved; report what came back."""
        url = self._target()
        params = {
            "hub.mode": "subscribe",
            "hub.challenge": challenge,
            "hub.verify_token": verify_token,
        }
        try:
            response = await self._http().get(url, params=params)
        except httpx.HTTPError as exc:
            return {"url": url, "ok": False, "status_code": None, "error": type(exc).__name__}
        ok = response.status_code == 200 and response.text == challenge
        return {
            "url": url,
            "ok": ok,
            "status_code": response.status_code,
            "body": response.text[:200],
            "challenge": challenge,
        }

    def clear(self) -> None:
        self.log.clear()
