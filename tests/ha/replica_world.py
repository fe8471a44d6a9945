"""Helpers for the replica fault tests: ``empfang run`` replicas as processes of their own on
one PostgreSQL, and the load balancer in front of them that spreads webhooks at random.

The replicas share everything a deployment shares (the database URL, the WhatsApp secrets,
the pseudonym key, the one Matrix account with its access token) and keep apart what is
each machine's own: the port, ``[store] path`` (spool), ``matrix.store_path``, the name.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.config import Settings
from bot.demo.stack import SupportRoom, free_port, stack_settings
from bot.sandbox import SandboxServer
from tests.e2e.fault_world import BotProcess, config_toml, customer_number, line

LEADER_GAUGE = re.compile(r'^empfang_ha_leader\{replica="([^"]+)"\} 1\.0$', re.MULTILINE)


TAKEOVER_SECONDS = 4.0


def shared_settings(
    workdir: Path, room: SupportRoom, balancer: Balancer, database: str, **sections: Any
) -> Settings:
    """What every replica shares: the database, the sandbox delivering through
    ``balancer`` (refused webhooks come back like Meta's: several times, spread out), the
    Matrix account, the secrets."""
    return stack_settings(
        workdir,
        room,
        bot_port=free_port(),
        store={"url": database},
        ha={"takeover_seconds": TAKEOVER_SECONDS},
        sandbox={
            "webhook_url": balancer.webhook_url,
            "redelivery_seconds": [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0],
        },
        **sections,
    )


@asynccontextmanager
async def two_replicas(
    base: Settings, workdir: Path, balancer: Balancer, sandbox: SandboxServer
) -> AsyncIterator[list[Replica]]:
    """Replicas ``replica-a`` (started first, so it leads) and ``replica-b`` of ``base``
    behind ``balancer``, running for the block; stopped (SIGTERM) at its end."""
    base.whatsapp.api_base = sandbox.graph_url
    replicas = [
        Replica(replica_settings(base, name, workdir / name), workdir / name)
        for name in ("replica-a", "replica-b")
    ]
    balancer.replicas.extend(replicas)
    await balancer.start()
    try:
        for replica in replicas:
            await replica.start()
        yield replicas
    finally:
        for replica in replicas:
            await replica.stop()
        await balancer.stop()


async def customers_write(sandbox: SandboxServer, customers: int, per_customer: int) -> None:
    """One line per customer per second (WhatsApp timestamps have whole seconds)."""
    for number in range(per_customer):
        for customer in range(customers):
            sandbox.say(customer_number(customer), line(customer, number))
        await asyncio.sleep(1.0)


def replica_settings(base: Settings, name: str, workdir: Path) -> Settings:
    """``base`` as the replica ``name`` sees it: its own port, files and name."""
    workdir.mkdir(parents=True, exist_ok=True)
    return base.model_copy(
        update={
            "server": base.server.model_copy(update={"port": free_port()}),
            "store": base.store.model_copy(update={"path": workdir / "empfang.sqlite3"}),
            "matrix": base.matrix.model_copy(update={"store_path": workdir / "matrix-store"}),
            "ha": base.ha.model_copy(update={"replica": name}),
        }
    )


class Replica(BotProcess):
    """One replica's ``empfang run``, killable with SIGKILL and startable again."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        super().__init__(settings, workdir / "config.toml")
        self.name = settings.ha.replica
        self.url = f"http://127.0.0.1:{settings.server.port}"
        self.config.write_text(
            config_toml(
                settings,
                *("server", "store", "whatsapp", "chat", "matrix", "privacy", "jobs", "ha"),
                "alerts",
            ),
            encoding="utf-8",
        )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def leads(self) -> bool:
        """What its ``/metrics`` says (False when it does not answer)."""
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
                text = (await client.get(f"{self.url}/metrics")).text
        except httpx.HTTPError:
            return False
        return LEADER_GAUGE.search(text) is not None


class Balancer:
    """A load balancer for the webhooks: each request goes to a replica chosen at random; one
    that refuses the connection is skipped for the next (as Caddy's ``lb_try_duration``
    does), and with none left the sender gets 502 and delivers again later."""

    def __init__(self, rng: random.Random) -> None:
        self.replicas: list[Replica] = []
        self._rng = rng
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self.port = free_port()
        self.forwarded: Counter[str] = Counter()
        """Requests answered, by replica."""

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/whatsapp"

    async def start(self) -> None:
        self._session = ClientSession(timeout=ClientTimeout(total=30))
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        for replica in self._rng.sample(self.replicas, len(self.replicas)):
            try:
                async with self._session.request(
                    request.method, replica.url + request.path_qs, data=body, headers=headers
                ) as answer:
                    self.forwarded[replica.name] += 1
                    return web.Response(status=answer.status, body=await answer.read())
            except (ClientError, OSError):
                continue
        return web.Response(status=502, text="no replica answered")
