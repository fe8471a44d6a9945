"""Composition root: builds store, provider, chat adapter, relay, workers and web server
from the configuration, and runs them in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from aiohttp import web

from adapters.cases import build_case_transfers
from adapters.whatsapp.cloud import CloudWhatsApp
from bot.alerts.monitor import MonitoredChat
from bot.alerts.oncall import OnCall
from bot.alerts.paging import Pager
from bot.cases.hooks import CaseTransfers
from bot.clock import Clock
from bot.config import Settings
from bot.errors import ConfigError
from bot.intake import Intake
from bot.jobs import RetryPolicy, WorkerPool
from bot.metrics import Metrics
from bot.ports import ChatPlatform
from bot.relay import Relay, RelayPolicy
from bot.store import Store
from bot.store.jobs import Job
from bot.web import Health, WebhookHandlers, build_web_app

log = logging.getLogger("empfang")


def build_whatsapp(settings: Settings) -> CloudWhatsApp:
    wa = settings.whatsapp
    return CloudWhatsApp(
        api_base=wa.resolved_api_base(settings.sandbox),
        phone_number_id=wa.phone_number_id,
        access_token=wa.access_token.get_secret_value(),
        app_secret=wa.app_secret.get_secret_value(),
        verify_token=wa.verify_token.get_secret_value(),
        timeout=wa.timeout_seconds,
    )


def build_chat(
    settings: Settings, web_app: web.Application | None = None
) -> tuple[ChatPlatform, frozenset[str]]:
    """The configured chat platform and its allow-list of agents. ``web_app`` is the bot's
    web server before it starts: Slack's HTTP mode adds its routes there."""
    if settings.chat.platform == "matrix":
        from adapters.matrix.platform import MatrixPlatform

        matrix = MatrixPlatform(settings.matrix, alerts_room=settings.alerts.room)
        return matrix, frozenset(settings.matrix.allowed_users)
    if settings.chat.platform == "slack":
        from adapters.slack.platform import SlackPlatform

        slack = SlackPlatform(settings.slack, web_app=web_app, alerts_channel=settings.alerts.room)
        return slack, frozenset(settings.slack.allowed_users)
    raise ConfigError(f'chat.platform: "{settings.chat.platform}" is not available yet')


class Empfang:
    """The running bot. ``intake_only`` accepts and stores webhooks without relaying
    (benchmarks, or a standby while the chat platform is under maintenance)."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        intake_only: bool = False,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._intake_only = intake_only
        self.metrics = Metrics()
        self.store: Store | None = None
        self.chat: ChatPlatform | None = None
        self.workers: WorkerPool | None = None
        self.cases: CaseTransfers | None = None
        self.oncall: OnCall | None = None
        self._whatsapp: CloudWhatsApp | None = None
        self._webhooks: WebhookHandlers | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.server.host}:{self.port}"

    async def start(self) -> None:
        settings = self.settings
        self.store = await Store.open(
            Path(settings.store.path), synchronous=settings.store.synchronous, clock=self._clock
        )
        self._whatsapp = build_whatsapp(settings)
        intake = Intake(
            self.store, pseudonym_key=settings.privacy.pseudonym_key.get_secret_value().encode()
        )
        self._webhooks = webhooks = WebhookHandlers(
            provider=self._whatsapp,
            intake=intake,
            metrics=self.metrics,
            max_body_bytes=settings.server.max_body_bytes,
        )
        health = Health(self.store, self.metrics, provider_configured=True)
        app = build_web_app(webhooks, health, max_body_bytes=settings.server.max_body_bytes)
        if not self._intake_only:
            await self._start_relay(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, settings.server.host, settings.server.port)
        await site.start()
        self.port = self._bound_port(site)
        log.info("listening on %s (webhook path /webhooks/whatsapp)", self.url)

    async def _start_relay(self, web_app: web.Application) -> None:
        assert self.store is not None and self._whatsapp is not None
        settings = self.settings
        chat, allowed = build_chat(settings, web_app)
        self.chat = chat
        self.oncall = OnCall(
            self.store,
            chat,
            settings.alerts,
            settings.business_hours,
            first_contact_notice=settings.privacy.first_contact_notice,
            pager=Pager(settings.alerts.webhook),
        )
        watched = MonitoredChat(
            chat, self.oncall, self.store.clock, settings.alerts.platform_down_after
        )
        self.cases = build_case_transfers(self.store, settings, watched)
        relay = Relay(
            self.store,
            watched,
            self._whatsapp,
            RelayPolicy(
                privacy=settings.privacy,
                allowed_users=allowed,
                timezone=settings.business_hours.timezone,
            ),
            cases=self.cases,
            observers=[self.oncall],
            operations=self.oncall,
            post_latency=self.metrics.chat_post_seconds,
        )
        assert self._webhooks is not None
        self._webhooks.watcher = self.oncall
        jobs = settings.jobs
        self.workers = WorkerPool(
            self.store,
            relay.handlers(),
            workers=jobs.workers,
            lease_seconds=jobs.lease_seconds,
            policy=RetryPolicy(
                jobs.max_attempts, jobs.backoff_base_seconds, jobs.backoff_max_seconds
            ),
            on_dead=self._on_dead,
        )
        await chat.start(relay.on_agent_event)
        self.workers.start()

    async def _on_dead(self, job: Job, reason: str) -> None:
        """A dead-lettered job: the case ledger records failed transfers, on-call hears of all."""
        if self.cases is not None:
            await self.cases.on_dead(job, reason)
        if self.oncall is not None:
            await self.oncall.dead_lettered(job, reason)

    @staticmethod
    def _bound_port(site: web.TCPSite) -> int:
        server = site._server  # aiohttp keeps the asyncio server here; the port may be 0
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else 0

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Stop taking webhooks, let running jobs finish, then close everything."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.workers is not None:
            await self.workers.stop(drain_seconds)
            self.workers = None
        if self.cases is not None:
            await self.cases.aclose()
            self.cases = None
        if self.oncall is not None:
            await self.oncall.aclose()
            self.oncall = None
        if self.chat is not None:
            await self.chat.stop()
            self.chat = None
        if self._whatsapp is not None:
            await self._whatsapp.aclose()
            self._whatsapp = None
        if self.store is not None:
            await self.store.close()
            self.store = None


async def run_until_signalled(app: Empfang) -> None:
    """Run until SIGTERM or SIGINT, then drain and exit cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await app.start()
    try:
        await stop.wait()
        log.info("shutting down: draining jobs")
    finally:
        await app.stop()
