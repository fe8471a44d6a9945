"""``SandboxServer``: the sandbox as a running HTTP server (aiohttp.web).

It is the same object whether ``empfang sandbox`` runs it for an admin or a test starts it on
a free loopback port: tests call the Python methods inherited from
:class:`~bot.sandbox.core.Sandbox` (``say``, ``inbox``, ``idle`` …) while the bot under test
talks to it over real HTTP through its production adapter.

    async with SandboxServer(settings, port=0) as sandbox:
        settings.whatsapp.api_base = sandbox.graph_url
        sandbox.say("+4915112345678", "Hallo", name="Erika")
        await sandbox.idle()
"""

from __future__ import annotations

import logging
import random
from types import TracebackType

from aiohttp import web

from bot.clock import Clock
from bot.config import Settings
from bot.logfilter import keep_own_address
from bot.sandbox.core import DELIVERY_TIMEOUT_SECONDS, Sandbox, url_host
from bot.sandbox.errors import SandboxError
from bot.sandbox.routes import build_app

log = logging.getLogger("bot.sandbox")


class SandboxServer(Sandbox):
    """Listens on ``sandbox.host`` at ``port`` (None: ``sandbox.port``; 0: any free port)."""

    def __init__(
        self,
        settings: Settings,
        *,
        port: int | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        waba_id: str | None = None,
        display_phone_number: str | None = None,
        delivery_timeout: float = DELIVERY_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(
            settings,
            clock=clock,
            rng=rng,
            waba_id=waba_id,
            display_phone_number=display_phone_number,
            delivery_timeout=delivery_timeout,
        )
        self._host = settings.sandbox.host
        self._port = settings.sandbox.port if port is None else port
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        """Bind and serve; returns the base URL (``http://host:port``, no version)."""
        if self._runner is not None:
            raise SandboxError("the sandbox is already running")
        runner = web.AppRunner(build_app(self), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise SandboxError(
                f"cannot listen on {self._host}:{self._port}: {exc.strerror or exc}"
            ) from exc
        self._runner = runner
        await self.deliverer.start()
        port = int(runner.addresses[0][1])  # the real one when asked for port 0
        self.base_url = f"http://{url_host(self._host)}:{port}"
        self.twilio.base_url = self.base_url  # media URLs name the host, as Twilio's do
        keep_own_address(self.base_url)
        keep_own_address(self.webhook_url)
        log.info("sandbox listening on %s, delivering to %s", self.base_url, self.webhook_url)
        return self.base_url

    async def stop(self) -> None:
        """Cancel pending deliveries and close the listener; safe to call twice."""
        await self.background.cancel_all()
        await self.deliverer.aclose()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
