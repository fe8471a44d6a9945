"""Shared pieces of the Matrix adapter tests: an inbox for agent events and raw API reads.

Reads go through plain httpx as the agent, so assertions are about what the homeserver
stored, not about what nio believes it sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from bot.config import MatrixSection
from bot.demo.synapse import LocalSynapse, MatrixAccount
from bot.ports import AgentEvent, AgentMessage

WAIT = 15.0


class Inbox:
    """Collects what the platform delivers; ``wait_for`` blocks until a match arrives."""

    def __init__(self) -> None:
        self.messages: list[AgentMessage] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: AgentEvent) -> None:
        assert isinstance(event, AgentMessage)
        self.messages.append(event)
        self._changed.set()

    async def wait_for(
        self, predicate: Callable[[AgentMessage], bool], within: float = WAIT
    ) -> AgentMessage:
        async def scan() -> AgentMessage:
            while True:
                for message in self.messages:
                    if predicate(message):
                        return message
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), within)

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages]


def section(
    hs: LocalSynapse,
    bot: MatrixAccount,
    room_id: str,
    store: Path,
    *,
    use_token: bool = True,
    **extra: Any,
) -> MatrixSection:
    """Config for the bot account; with ``use_token=False`` it logs in by password."""
    values: dict[str, Any] = {
        "homeserver": hs.base_url,
        "user_id": bot.user_id,
        "room_id": room_id,
        "store_path": store,
        "pickle_key": SecretStr("test-pickle-key"),
    }
    if use_token:
        values.update(access_token=SecretStr(bot.access_token), device_id=bot.device_id)
    else:
        values.update(password=SecretStr(bot.password))
    values.update(extra)
    return MatrixSection(**values)


def thread_reply(root_id: str, text: str) -> dict[str, Any]:
    """What Element sends for a message in a thread."""
    return {
        "msgtype": "m.text",
        "body": text,
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": root_id,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": root_id},
        },
    }


class RoomReader:
    """Raw client-server API reads as one account."""

    def __init__(self, hs: LocalSynapse, account: MatrixAccount, room_id: str) -> None:
        self._http = httpx.AsyncClient(
            base_url=hs.base_url,
            headers={"Authorization": f"Bearer {account.access_token}"},
            trust_env=False,
            timeout=10.0,
        )
        self._room = quote(room_id, safe="")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def event(self, event_id: str) -> dict[str, Any]:
        response = await self._http.get(
            f"/_matrix/client/v3/rooms/{self._room}/event/{quote(event_id, safe='')}"
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def messages(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest events, oldest first."""
        response = await self._http.get(
            f"/_matrix/client/v3/rooms/{self._room}/messages",
            params={"dir": "b", "limit": str(limit)},
        )
        response.raise_for_status()
        chunk: list[dict[str, Any]] = response.json()["chunk"]
        return list(reversed(chunk))

    async def put_state(self, event_type: str, content: dict[str, Any]) -> None:
        response = await self._http.put(
            f"/_matrix/client/v3/rooms/{self._room}/state/{event_type}/", json=content
        )
        response.raise_for_status()

    async def get_state(self, event_type: str) -> dict[str, Any]:
        response = await self._http.get(
            f"/_matrix/client/v3/rooms/{self._room}/state/{event_type}/"
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def devices(self) -> list[dict[str, Any]]:
        response = await self._http.get("/_matrix/client/v3/devices")
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()["devices"]
        return found
