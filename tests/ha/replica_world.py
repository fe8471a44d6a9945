"""Helpers for the replica fault tests: ``empfang run`` replicas as processes of their own on
one PostgreSQL, and the load balancer in front of them that spreads webhooks at random.

The replicas share everything a deployment shares (the database URL, the WhatsApp secrets,
the pseudonym key, the one Matrix account with its access token) and keep apart what is
each machine's own: the port, ``[store] path`` (spool), ``matrix.store_path``, the name.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import httpx
from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.config import Settings
from bot.demo.stack import free_port
from tests.e2e.fault_world import BotProcess, config_toml

LEADER_GAUGE = re.compile(r'^empfang_ha_leader\{replica="([^"]+)"\} 1\.0$', re.MULTILINE)


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
                settings, "server", "store", "whatsapp", "chat", "matrix", "privacy", "jobs", "ha"
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
