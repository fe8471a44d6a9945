"""A complete local Empfang: Synapse, a support room, the WhatsApp sandbox and the bot.

``empfang demo`` runs on it, and the end-to-end tests use the very same assembly, so what
the demo shows is what the tests check.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from bot.app import Empfang
from bot.config import Settings
from bot.demo.synapse import LocalSynapse, MatrixAccount
from bot.sandbox import SandboxServer

T = TypeVar("T")


def free_port() -> int:
    """A loopback port that was free a moment ago (the bot's port must be known to the
    sandbox before the bot starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class SupportRoom:
    """A room on the homeserver with the bot and one human agent in it."""

    homeserver: LocalSynapse
    bot: MatrixAccount
    agent: MatrixAccount
    room_id: str


async def create_support_room(
    homeserver: LocalSynapse, *, tag: str = "", encrypted: bool = False
) -> SupportRoom:
    """Register ``empfang<tag>`` and ``agent<tag>``; the agent creates the room, the bot joins."""
    tag = tag or secrets.token_hex(3)
    bot = await homeserver.register_user(f"empfang{tag}", secrets.token_urlsafe(12))
    agent = await homeserver.register_user(f"agent{tag}", secrets.token_urlsafe(12))
    room_id = await homeserver.create_room(
        agent, name="Customer support", invite=[bot.user_id], encrypted=encrypted
    )
    await homeserver.join_room(bot, room_id)
    return SupportRoom(homeserver, bot, agent, room_id)


def stack_settings(
    workdir: Path, room: SupportRoom, *, bot_port: int, **sections: dict[str, Any]
) -> Settings:
    """Settings for the bot on SQLite in ``workdir``, the sandbox as WhatsApp (its Graph API
    and, for ``[[numbers]]`` of provider ``twilio``, its Twilio account), Matrix chat."""
    data: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": bot_port},
        "store": {"path": str(workdir / "empfang.sqlite3")},
        "whatsapp": {
            "provider": "sandbox",
            "phone_number_id": "106540352242922",
            "access_token": secrets.token_urlsafe(16),
            "app_secret": secrets.token_urlsafe(16),
            "verify_token": secrets.token_urlsafe(8),
        },
        "twilio": {
            "account_sid": "AC" + secrets.token_hex(16),
            "auth_token": secrets.token_urlsafe(16),
            "webhook_url": f"http://127.0.0.1:{bot_port}/webhooks/twilio",
        },
        "sandbox": {"host": "127.0.0.1", "port": 0, "status_delay_seconds": 0.05},
        "chat": {"platform": "matrix"},
        "matrix": {
            "homeserver": room.homeserver.base_url,
            "user_id": room.bot.user_id,
            "access_token": room.bot.access_token,
            "device_id": room.bot.device_id,
            "room_id": room.room_id,
            "store_path": str(workdir / "matrix-store"),
            "pickle_key": secrets.token_urlsafe(16),
        },
        "privacy": {"pseudonym_key": secrets.token_urlsafe(24)},
        "jobs": {"backoff_base_seconds": 0.2, "backoff_max_seconds": 2.0},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Settings(**data)


class Stack:
    """The sandbox and the bot, wired to each other; ``restart_bot`` keeps the same files."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sandbox = SandboxServer(settings, port=0)
        self.bot: Empfang | None = None

    async def start(self) -> None:
        await self.sandbox.start()
        self.settings.whatsapp.api_base = self.sandbox.graph_url
        self.settings.twilio.api_base = self.sandbox.base_url
        await self.start_bot()

    @property
    def bot_url(self) -> str:
        return self.bot.url if self.bot is not None else "(stopped)"

    async def start_bot(self) -> Empfang:
        self.bot = Empfang(self.settings)
        await self.bot.start()
        return self.bot

    async def stop_bot(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None

    async def restart_bot(self) -> Empfang:
        await self.stop_bot()
        return await self.start_bot()

    async def stop(self) -> None:
        await self.stop_bot()
        await self.sandbox.stop()

    async def __aenter__(self) -> Stack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class RoomView:
    """What a human in the room sees, read through the client-server API as that human."""

    def __init__(self, homeserver: LocalSynapse, account: MatrixAccount, room_id: str) -> None:
        self._base = homeserver.base_url
        self._account = account
        self._room = quote(room_id, safe="")

    async def events(self, limit: int = 500) -> list[dict[str, Any]]:
        """The room's latest ``limit`` events, oldest first; page by page, as the
        homeserver hands out at most 1,000 per request."""
        found: list[dict[str, Any]] = []
        params = {"dir": "b"}
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            while len(found) < limit:
                params["limit"] = str(min(1_000, limit - len(found)))
                response = await client.get(
                    f"{self._base}/_matrix/client/v3/rooms/{self._room}/messages",
                    params=params,
                    headers={"Authorization": f"Bearer {self._account.access_token}"},
                )
                response.raise_for_status()
                page = response.json()
                found += page["chunk"]
                if not page["chunk"] or "end" not in page:
                    break
                params["from"] = page["end"]
        return list(reversed(found))

    async def messages(self) -> list[dict[str, Any]]:
        return [e for e in await self.events() if e.get("type") == "m.room.message"]

    async def reply_in_thread(self, root_id: str, text: str) -> str:
        """Send ``text`` in the thread of ``root_id``, as Element does."""
        content = {
            "msgtype": "m.text",
            "body": text,
            "m.relates_to": {
                "rel_type": "m.thread",
                "event_id": root_id,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": root_id},
            },
        }
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            response = await client.put(
                f"{self._base}/_matrix/client/v3/rooms/{self._room}/send/m.room.message/"
                f"{secrets.token_hex(8)}",
                json=content,
                headers={"Authorization": f"Bearer {self._account.access_token}"},
            )
        response.raise_for_status()
        return str(response.json()["event_id"])


async def wait_for(
    probe: Callable[[], Awaitable[T | None]], *, within: float = 20.0, interval: float = 0.1
) -> T:
    """Poll until ``probe`` returns something truthy; TimeoutError names what was awaited."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"gave up waiting after {within:.0f}s")
        await asyncio.sleep(interval)
