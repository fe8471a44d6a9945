"""Test harness: a tiny aiohttp receiver standing in for the bot, and a sandbox wired to it.

The receiver records every webhook exactly as received (raw bytes and headers), so tests can
verify signatures over the bytes on the wire, and answers with scripted status codes to
exercise redelivery.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web
from pydantic import SecretStr

from bot.clock import Clock
from bot.config import SandboxSection, ServerSection, Settings, WhatsAppSection
from bot.sandbox import SandboxServer
from bot.sandbox.delivery import tls_context

APP_SECRET = "test_app_secret"
ACCESS_TOKEN = "test-access-token"
VERIFY_TOKEN = "test-verify-token"
PHONE_NUMBER_ID = "106540352242922"
CUSTOMER = "+49 151 12345678"
CUSTOMER_WA_ID = "4915112345678"


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def value(self) -> dict[str, Any]:
        return dict(self.json["entry"][0]["changes"][0]["value"])

    def signature_ok(self, secret: str = APP_SECRET) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("X-Hub-Signature-256", ""))


@dataclass
class Receiver:
    """Records webhooks; answers ``script`` status codes first, then 200."""

    script: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    verify_token: str = VERIFY_TOKEN
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def _post(self, request: web.Request) -> web.Response:
        self.received.append(Received(await request.read(), dict(request.headers)))
        self.arrived.set()
        status = self.script.pop(0) if self.script else 200
        return web.Response(status=status, text="ok" if status == 200 else "nope")

    async def _get(self, request: web.Request) -> web.Response:
        query = request.query
        if (
            query.get("hub.mode") == "subscribe"
            and query.get("hub.verify_token") == self.verify_token
        ):
            return web.Response(text=query.get("hub.challenge", ""))
        return web.Response(status=403, text="Forbidden")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/whatsapp", self._post)
        app.router.add_get("/webhooks/whatsapp", self._get)
        return app

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [m for r in self.received for m in r.value.get("messages", [])]

    @property
    def statuses(self) -> list[dict[str, Any]]:
        return [s for r in self.received for s in r.value.get("statuses", [])]


def make_settings(receiver_port: int, **sandbox: Any) -> Settings:
    """Bot-side settings whose ``server`` section points at the receiver."""
    return Settings(
        server=ServerSection(host="127.0.0.1", port=receiver_port),
        whatsapp=WhatsAppSection(
            provider="sandbox",
            phone_number_id=PHONE_NUMBER_ID,
            access_token=SecretStr(ACCESS_TOKEN),
            app_secret=SecretStr(APP_SECRET),
            verify_token=SecretStr(VERIFY_TOKEN),
        ),
        sandbox=SandboxSection.model_validate(
            {"status_delay_seconds": 0.0, "redelivery_seconds": [0.01, 0.01], **sandbox}
        ),
    )


@dataclass
class Env:
    sandbox: SandboxServer
    receiver: Receiver
    http: httpx.AsyncClient

    async def send(
        self, body: dict[str, Any], *, token: str | None = ACCESS_TOKEN
    ) -> httpx.Response:
        """POST to /messages as the bot would."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        url = f"{self.sandbox.graph_url}/{PHONE_NUMBER_ID}/messages"
        return await self.http.post(url, json=body, headers=headers)

    async def send_text(self, text: str, to: str = CUSTOMER_WA_ID, **extra: Any) -> httpx.Response:
        body = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text}}
        return await self.send({**body, **extra})


@asynccontextmanager
async def receiver_running(receiver: Receiver) -> AsyncIterator[int]:
    runner = web.AppRunner(receiver.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    receiver.url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
    try:
        yield port
    finally:
        await runner.cleanup()


@asynccontextmanager
async def sandbox_env(
    *, rng: random.Random | None = None, clock: Clock | None = None, **sandbox_options: Any
) -> AsyncIterator[Env]:
    """A receiver (the bot), a sandbox delivering to it, and an HTTP client for Graph calls."""
    receiver = Receiver()
    async with receiver_running(receiver) as port:
        settings = make_settings(port, **sandbox_options)
        async with (
            SandboxServer(settings, port=0, rng=rng, clock=clock) as sandbox,
            httpx.AsyncClient(verify=tls_context()) as http,
        ):
            yield Env(sandbox, receiver, http)
