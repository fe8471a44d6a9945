"""What an idle ``empfang run`` on Slack has not loaded (issue 16: idle RSS ≤ 70 MiB), and
that it keeps what it built at start-up out of garbage collection.

Started against the fake Slack in each mode until it answers ``/readyz`` (the platform is
started then: Socket Mode connected, HTTP mode's routes served), then asked what it holds:

- no asyncpg: ``bot.ha`` (replicas) and ``empfang store copy`` are PostgreSQL's and
  import it when used, not with ``bot.app`` or ``bot.cli`` (~3 MiB);
- no httpcore: the Graph API's and the paging webhook's httpx clients are built by their
  first request (``bot.http_client``), and an idle bot has made none (~2.8 MiB);
- no Socket Mode client in HTTP mode;
- no source file read into ``linecache``: bolt's ``AsyncApp`` names itself after its
  caller's file through ``inspect.stack()`` unless given a name, which reads every file on
  the stack and keeps their lines (~0.5 MiB).
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bot.demo.stack import wait_for
from tests.fakes.slack import FakeSlack
from tests.slack.stack import Mode, slack_settings
from tests.support.loaded import Run, empfang_run


async def _idle_empfang_run(mode: Mode, tmp_path: Path) -> Run:
    async with FakeSlack(mode=mode) as fake:
        settings = slack_settings(mode, fake=fake, store=tmp_path / "empfang.sqlite3")
        url = f"http://{settings.server.host}:{settings.server.port}/readyz"
        async with empfang_run(settings, "slack", tmp_path) as run, aiohttp.ClientSession() as http:

            async def ready() -> bool:
                assert run.process.returncode is None, "empfang run exited"
                try:
                    async with http.get(url) as answer:
                        return answer.status == 200
                except aiohttp.ClientError:
                    return False

            await wait_for(ready, within=60)
    return run


def _under(modules: set[str], package: str) -> list[str]:
    return sorted(name for name in modules if name == package or name.startswith(f"{package}."))


@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_an_idle_bot_on_slack_leaves_out_what_it_does_not_use(
    mode: Mode, tmp_path: Path
) -> None:
    run = await _idle_empfang_run(mode, tmp_path)
    assert "adapters.slack.platform" in run.modules  # the adapter did run
    assert _under(run.modules, "asyncpg") == []
    assert _under(run.modules, "httpcore") == []
    socket_mode = _under(run.modules, "slack_sdk.socket_mode")
    assert socket_mode if mode == "socket" else socket_mode == []
    assert run.sources == []


async def test_the_objects_built_at_start_up_are_left_out_of_garbage_collection(
    tmp_path: Path,
) -> None:
    """A full collection walked them all (38–45 ms of a stopped event loop in the relay
    benchmark); frozen, later collections skip them (``bot.gc_freeze``)."""
    run = await _idle_empfang_run("http", tmp_path)
    assert run.frozen > 10_000  # modules, classes, settings, adapters
