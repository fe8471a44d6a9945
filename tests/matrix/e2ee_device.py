"""An agent's own E2EE device for tests: a second nio client with its own crypto store.

Nothing is shared with the bot but the homeserver, so what it decrypts proves the bot's
encryption works for a real other device.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from nio import AsyncClient, AsyncClientConfig, Event, MatrixRoom

from bot.demo.synapse import LocalSynapse, MatrixAccount


class E2eeDevice:
    """Syncs in the background and keeps the events of ``kinds`` it received (decrypted)."""

    def __init__(
        self,
        hs: LocalSynapse,
        account: MatrixAccount,
        store: Path,
        kinds: tuple[type[Event], ...],
    ) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            hs.base_url,
            account.user_id,
            device_id=account.device_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, pickle_key="agent-pickle-key"),
        )
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.received: dict[str, Event] = {}
        self._arrived = asyncio.Event()
        self.client.add_event_callback(self._on_event, kinds)
        self._task: asyncio.Task[None] | None = None

    async def _on_event(self, room: MatrixRoom, event: Event) -> None:
        self.received[event.event_id] = event
        self._arrived.set()

    async def start(self) -> None:
        await self.client.keys_upload()
        self._task = asyncio.create_task(self.client.sync_forever(timeout=500, full_state=True))
        await asyncio.wait_for(self.client.synced.wait(), 10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def wait_for(self, event_id: str, within: float = 15) -> Event:
        async def arrival() -> Event:
            while event_id not in self.received:
                self._arrived.clear()
                await self._arrived.wait()
            return self.received[event_id]

        return await asyncio.wait_for(arrival(), within)
