"""The unencrypted Matrix adapter runs without matrix-nio and without echo syncs (issue 16).

- ``empfang run`` with an unencrypted Matrix config, started and synced against Synapse,
  has not imported ``nio`` (its crypto, HTTP/2 and jsonschema stacks cost ~13 MiB of idle
  memory); with ``matrix.encryption`` it has (the E2EE tests run the rest of that path).
- The sync filter leaves out the bot's own events, so the bot's posts do not each wake the
  long-polling ``/sync``: counted at a pass-through proxy in front of Synapse, posting ten
  lines brings no sync answer; the agent's message after them brings one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest_asyncio
from aiohttp import web

from adapters.matrix import MatrixPlatform
from adapters.matrix.state import STATE_FILE
from bot.demo.stack import SupportRoom, free_port, stack_settings, wait_for
from bot.ports import ThreadRoot
from tests.matrix.conftest import StartPlatform, Team
from tests.matrix.helpers import section
from tests.support.loaded import empfang_run


async def _modules_of_empfang_run(team: Team, tmp_path: Path, *, encryption: bool) -> set[str]:
    """Start ``empfang run`` on ``team``'s room, wait for its first sync, stop it (SIGTERM);
    the modules it had imported."""
    room = SupportRoom(team.hs, team.bot, team.agent, team.room_id)
    settings = stack_settings(
        tmp_path, room, bot_port=free_port(), matrix={"encryption": encryption}
    )
    store = settings.matrix.store_path
    async with empfang_run(settings, "matrix", tmp_path) as run:
        # The sync token is stored after the first sync: the platform is started and syncing.
        for _ in range(600):
            state = store / STATE_FILE
            if state.exists() and json.loads(state.read_text()).get("next_batch"):
                break
            assert run.process.returncode is None, "empfang run exited"
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("empfang run did not sync within 30 s")
    return run.modules


def _nio_modules(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name == "nio" or name.startswith("nio."))


async def test_empfang_run_without_encryption_never_imports_nio(team: Team, tmp_path: Path) -> None:
    modules = await _modules_of_empfang_run(team, tmp_path, encryption=False)
    assert "adapters.matrix.platform" in modules  # the adapter did run
    assert _nio_modules(modules) == []
    assert "adapters.matrix.e2ee" not in modules


async def test_empfang_run_with_encryption_loads_nio(team: Team, tmp_path: Path) -> None:
    """The other side of the switch: the config, not chance, decides."""
    modules = await _modules_of_empfang_run(team, tmp_path, encryption=True)
    assert "nio" in modules and "adapters.matrix.e2ee" in modules


class SyncCounter:
    """A pass-through proxy to the homeserver that counts the ``/sync`` answers it relays
    with timeline events in them (not the empty ones at the end of a poll) and who sent
    those events."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.answers = 0
        self.empty = 0
        self.senders: list[str] = []
        self._http: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        assert self._http is not None
        async with self._http.request(
            request.method,
            self.upstream + request.path_qs,
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            data=await request.read(),
        ) as answer:
            body = await answer.read()
            status, content_type = answer.status, answer.content_type
        if request.path.endswith("/sync") and status == 200:
            rooms = json.loads(body).get("rooms", {}).get("join", {}).values()
            senders = [e["sender"] for r in rooms for e in r.get("timeline", {}).get("events", [])]
            self.answers += bool(senders)
            self.empty += not senders
            self.senders += senders
        return web.Response(body=body, status=status, content_type=content_type)

    async def start(self) -> tuple[str, web.AppRunner]:
        self._http = aiohttp.ClientSession(trust_env=False)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}", runner

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


@pytest_asyncio.fixture(loop_scope="session")
async def counted(team: Team) -> AsyncIterator[tuple[SyncCounter, str]]:
    counter = SyncCounter(team.hs.base_url)
    url, runner = await counter.start()
    yield counter, url
    await runner.cleanup()
    await counter.close()


async def test_the_bots_own_posts_bring_no_sync_answers(
    team: Team, counted: tuple[SyncCounter, str], start_platform: StartPlatform
) -> None:
    counter, url = counted
    config = section(team.hs, team.bot, team.room_id, team.store, homeserver=url)
    platform, inbox = await start_platform(config)
    assert isinstance(platform, MatrixPlatform)
    root = await platform.open_thread(ThreadRoot(conversation_id=1, title="K-1"), key="root")
    before = counter.answers
    for n in range(10):
        await platform.post(root, f"line {n}", key=f"line-{n}")
    await team.say("agent after the posts")
    await inbox.wait_for(lambda m: m.text == "agent after the posts")
    # One answer: the one with the agent's message. Without the filter each post woke the
    # waiting sync (Synapse answers a long poll as soon as the room has a new event).
    assert counter.answers - before == 1
    assert team.bot.user_id not in counter.senders


async def test_empty_polls_do_not_rewrite_the_sync_token(
    team: Team, counted: tuple[SyncCounter, str], start_platform: StartPlatform
) -> None:
    """The poll is short (``sync.POLL_TIMEOUT_MS``); an answer without events is not written
    to the state file (``os.replace`` gives each write a new inode), one with an event is."""
    counter, url = counted
    config = section(team.hs, team.bot, team.room_id, team.store, homeserver=url)
    platform, _ = await start_platform(config)
    state = team.store / STATE_FILE
    written = state.stat().st_ino
    # The bot's own posts move the room on, so the polls' tokens change, but they are
    # filtered out: the answers are empty.
    root = await platform.open_thread(ThreadRoot(conversation_id=1, title="K-1"), key="root")
    await platform.post(root, "a line", key="line")
    empty = counter.empty

    async def two_empty_polls() -> bool:
        return counter.empty >= empty + 2

    async def rewritten() -> bool:
        return state.stat().st_ino != written

    await wait_for(two_empty_polls, within=15)
    assert state.stat().st_ino == written
    await team.say("news")
    await wait_for(rewritten, within=15)
