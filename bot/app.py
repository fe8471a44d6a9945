"""Composition root: builds store, provider, chat adapter, relay, workers and web server
from the configuration, and runs them in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from adapters.cases import build_sinks
from bot.audit import record_start
from bot.chat_targets import ChatTargets, FilesPlatform
from bot.clock import Clock
from bot.config import Settings
from bot.gc_freeze import freeze_start_up_objects
from bot.http_server import HttpServer
from bot.intake import Intake
from bot.job_catalog import claim_unnumbered_lanes
from bot.logfilter import keep_own_address
from bot.media.outbound import AgentFileSender
from bot.media.spool import Spool, spool_folder
from bot.metrics import Metrics
from bot.ports import AgentFiles, ChatPlatform, TemplateChoices
from bot.store import Store
from bot.templates.catalogue import StoredTemplates
from bot.texts import texts_for
from bot.web import Health, WebhookHandlers, build_web_app
from bot.whatsapp_side import WhatsAppSide, build_whatsapp
from bot.wiring import RelayStack, chat_rooms, wire_relay

if TYPE_CHECKING:
    from adapters.matrix.state import SyncPosition
    from bot.ha.replica import Replica

log = logging.getLogger("empfang")


def build_chat(
    settings: Settings,
    web_app: web.Application | None = None,
    templates: TemplateChoices | None = None,
    *,
    held: Sequence[tuple[str, str]] = (),
    matrix_position: SyncPosition | None = None,
) -> tuple[ChatPlatform, dict[str, frozenset[str]], AgentFiles]:
    """The chat platforms the numbers' threads are on (``[[numbers]] platform``, else
    ``[chat] platform``), each serving every room or channel of a number; each platform's
    allow-list of agents; where agents' files are fetched from (the platforms themselves).
    With both platforms in use, both run, behind ``bot.chat_targets.ChatTargets``. Slack's
    HTTP mode adds its routes to ``web_app``; Slack's template form offers ``templates``.
    ``held`` are ``(platform, room)`` of open conversations' threads: a room no number is
    routed to any more is still served until its threads are closed, so agents there are
    heard (a thread stays in the room it was opened in). ``matrix_position`` keeps the
    Matrix sync token in the database, for replicas (``bot.ha.sync_position``)."""
    numbers = settings.configured_numbers()
    rooms: dict[str, list[str]] = {"matrix": [], "slack": []}
    alerts: dict[str, list[str]] = {"matrix": [], "slack": []}
    for number in numbers:
        rooms[number.platform].append(number.room)
        alerts[number.platform].append(number.alerts_room)
    for platform, room in held:
        if platform in rooms and rooms[platform] and room not in rooms[platform]:
            log.info("%s: still serving %s, where open conversations' threads are", platform, room)
            rooms[platform].append(room)
    default = chat_rooms(settings).default.platform
    alerts_room = settings.alerts.room  # a room of [chat] platform
    platforms: dict[str, FilesPlatform] = {}
    allowed: dict[str, frozenset[str]] = {}
    if rooms["matrix"]:
        from adapters.matrix.platform import MatrixPlatform

        platforms["matrix"] = MatrixPlatform(
            settings.matrix,
            rooms=rooms["matrix"],
            alerts_room=alerts_room if default == "matrix" else "",
            alerts_rooms=alerts["matrix"],
            sync_position=matrix_position,
        )
        allowed["matrix"] = frozenset(settings.matrix.allowed_users)
    if rooms["slack"]:
        from adapters.slack.platform import SlackPlatform

        platforms["slack"] = SlackPlatform(
            settings.slack,
            texts=texts_for(settings.ui.language),
            web_app=web_app,
            alerts_channel=alerts_room if default == "slack" else "",
            templates=templates,
            channels=rooms["slack"],
            alerts_channels=[room for room in alerts["slack"] if room],
        )
        allowed["slack"] = frozenset(settings.slack.allowed_users)
    if len(platforms) == 1:
        (only,) = platforms.values()
        return only, allowed, only
    chat = ChatTargets(platforms, default)
    return chat, allowed, chat


def _adopt_routes(app: web.Application, routes: web.Application) -> None:
    """Serve ``routes`` (a chat platform's endpoints, built before ``app``) from ``app``."""
    for route in routes.router.routes():
        assert route.resource is not None  # every route added with a path has one
        app.router.add_route(route.method, route.resource.canonical, route.handler)


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
        self.relaying: RelayStack | None = None
        self._whatsapp: WhatsAppSide | None = None
        self._server: HttpServer | None = None
        self.port: int | None = None
        self.replica: Replica | None = None
        """With PostgreSQL: this process's part among the replicas (``bot.ha``)."""
        self._replica_running = contextlib.AsyncExitStack()
        self._leading: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.server.host}:{self.port}"

    async def start(self) -> None:
        settings = self.settings
        self.store = await Store.open(
            settings.store.database,
            synchronous=settings.store.synchronous,
            clock=self._clock,
            password=settings.store.database_password,
            path=Path(settings.store.path),
        )
        await record_start(self.store, settings)
        if settings.store.postgresql:
            await self._join_replicas()
        async with self.store.transaction() as tx:  # theirs since before numbers were kept
            first = settings.configured_numbers()[0].number_id
            await tx.conversations.claim_unnumbered(first)
            await claim_unnumbered_lanes(tx, first)  # their waiting jobs, in that order too
            held = await tx.conversations.open_thread_rooms()
        self._whatsapp = build_whatsapp(settings)
        intake = Intake(
            self.store, pseudonym_key=settings.privacy.pseudonym_key.get_secret_value().encode()
        )
        # The relay comes first, as on-call watches the webhooks; the chat platform's own
        # routes (Slack's HTTP mode) join the web app once it exists.
        chat_routes = web.Application()
        if not self._intake_only:
            self.relaying = self._wire_relay(chat_routes, held)
        webhooks = [  # one endpoint per provider in use, each taking only its numbers
            WebhookHandlers(
                provider=endpoint.receiver,
                intake=intake,
                metrics=self.metrics,
                max_body_bytes=settings.server.max_body_bytes,
                watcher=self.relaying.oncall if self.relaying else None,
                route=endpoint.route,
            )
            for endpoint in self._whatsapp.endpoints
        ]
        health = Health(
            self.store,
            self.metrics,
            provider_configured=True,
            database_reachable=(lambda: replica.database_reachable)
            if (replica := self.replica) is not None
            else None,
        )
        self._server = HttpServer(settings.server)
        app = build_web_app(
            webhooks,
            health,
            metrics=self.metrics,
            max_body_bytes=settings.server.max_body_bytes,
            middlewares=[self._server.middleware()],
        )
        _adopt_routes(app, chat_routes)
        if self.relaying is not None:
            await self._start_relaying(self.relaying)
        await self._server.start(app)
        self.port = self._server.port
        paths = ", ".join(endpoint.route.path for endpoint in webhooks)
        keep_own_address(self.url)
        log.info("listening on %s (webhook paths %s)", self.url, paths)

    async def _join_replicas(self) -> None:
        """Take part in the election, expose who leads, and let other replicas' commits
        wake this one's workers. Imported here: ``bot.ha`` is built on asyncpg, which a bot on
        SQLite never loads (~3 MiB of its idle memory)."""
        from bot.ha.connection import connector
        from bot.ha.replica import Replica

        assert self.store is not None
        settings = self.settings
        replica = Replica(
            connector(settings.store.url, settings.store.database_password), settings.ha
        )
        replica.register_metrics(self.metrics.registry)
        replica.on_new_jobs(self.store.jobs_added_elsewhere, own_sender=self.store.sender)
        await self._replica_running.enter_async_context(replica.running())
        self.replica = replica

    async def _start_relaying(self, relaying: RelayStack) -> None:
        """Alone (SQLite): everything. As a replica: what every replica does (posting, the
        job workers), and the leader's part for as long as this replica leads."""
        replica = self.replica
        if replica is None:
            await relaying.start()
            return
        await relaying.start(leading=False)

        async def stop_leading() -> None:
            if self._server is None:  # shutting down: no need to reconnect for posting
                await relaying.relay.catalogue.stop()
                await relaying.chat.stop()
            else:
                await relaying.stop_leading()

        self._leading = asyncio.create_task(
            replica.lead(relaying.start_leading, stop_leading), name="empfang-leading"
        )

    async def failed(self) -> None:
        """Return when this replica's leader part failed (raising its error): the process is
        to exit, which releases the lease, so another replica leads. Never returns otherwise."""
        if self._leading is None:
            await asyncio.Event().wait()
        else:
            await asyncio.shield(self._leading)

    def _wire_relay(
        self, chat_routes: web.Application, held: Sequence[tuple[str, str]]
    ) -> RelayStack:
        """``held``: the rooms open conversations' threads are in (``build_chat``)."""
        assert self.store is not None and self._whatsapp is not None
        settings = self.settings
        templates = StoredTemplates(self.store)
        chat, allowed, files = build_chat(
            settings,
            chat_routes,
            templates,
            held=held,
            matrix_position=self.replica.sync_position("matrix") if self.replica else None,
        )
        texts = texts_for(settings.ui.language)
        whatsapp = self._whatsapp.router
        sender = AgentFileSender(
            files,
            whatsapp.media_out,
            whatsapp,
            settings.media.limits(),
            Spool(spool_folder(Path(settings.store.path))),
        )
        return wire_relay(
            self.store,
            settings,
            chat=chat,
            whatsapp=whatsapp,
            texts=texts,
            allowed_by_platform=allowed,
            sinks=build_sinks(settings.cases, texts),
            post_latency=self.metrics.chat_post_seconds,
            files=sender,
            media_source=whatsapp.media_in,
            templates=self._whatsapp.templates,
        )

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Stop taking webhooks, let running jobs finish, then close everything."""
        if self._server is not None:
            await self._server.stop()
            self._server = None
        leading, self._leading = self._leading, None
        if leading is not None:
            leading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await leading
        await self._replica_running.aclose()  # releases the lease: another leads at once
        self.replica = None
        if self.relaying is not None:
            await self.relaying.stop(drain_seconds)
            self.relaying = None
        if self._whatsapp is not None:
            await self._whatsapp.router.aclose()
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
    log.debug("%d start-up objects left out of garbage collection", freeze_start_up_objects())
    try:
        signalled = asyncio.create_task(stop.wait())
        failed = asyncio.create_task(app.failed())
        await asyncio.wait([signalled, failed], return_when=asyncio.FIRST_COMPLETED)
        signalled.cancel()
        failed.cancel()
        if failed.done() and not failed.cancelled() and failed.exception() is not None:
            log.error(
                "the leader's part failed (%s): exiting, so that another replica leads",
                type(failed.exception()).__name__,
            )
        log.info("shutting down: draining jobs")
    finally:
        await app.stop()
    if failed.done() and not failed.cancelled() and (error := failed.exception()) is not None:
        raise error
