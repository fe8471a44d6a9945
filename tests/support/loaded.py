"""``empfang run`` in a fresh process that tells, when asked, what it has loaded: the
modules it imported and the source files ``linecache`` holds. For tests of what an idle
bot leaves out (issue 16: idle RSS ≤ 70 MiB with one platform); a fresh process, so
nothing another test imported or printed hides a regression.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings
from tests.e2e.fault_world import config_toml

ROOT = Path(__file__).resolve().parents[2]

RUN_AND_LIST_LOADED = (
    "import gc, json, linecache, signal, sys\n"
    "from pathlib import Path\n"
    "out = Path(sys.argv.pop(1))\n"
    "def listing(signum, frame):\n"
    "    loaded = {'modules': sorted(sys.modules),\n"
    "              'sources': sorted(f for f in linecache.cache if f.endswith('.py')),\n"
    "              'frozen': gc.get_freeze_count()}\n"
    "    out.with_suffix('.part').write_text(json.dumps(loaded))\n"
    "    out.with_suffix('.part').replace(out)\n"
    "signal.signal(signal.SIGUSR2, listing)\n"
    "from bot.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
"""``empfang run`` that writes its imported modules and the source files ``linecache`` holds
(not the code attrs generates and registers there) to a JSON file on SIGUSR2: what it
holds while running, before its shutdown, whose tracebacks if any would read sources."""

LISTING_SECONDS = 10.0


@dataclass
class Run:
    """The running process; what it had loaded, filled after the block."""

    process: asyncio.subprocess.Process
    modules: set[str] = field(default_factory=set)
    sources: list[str] = field(default_factory=list)
    frozen: int = 0
    """Objects left out of garbage collection (``bot.gc_freeze``)."""


@asynccontextmanager
async def empfang_run(settings: Settings, chat: str, workdir: Path) -> AsyncIterator[Run]:
    """``empfang run`` on ``settings`` with the chat platform's section ``chat``, config and
    listing under ``workdir``. After the block, it is asked for its listing, which fills
    the yielded :class:`Run`, then stopped with SIGTERM (and required to exit 0)."""
    config = workdir / "config.toml"
    sections = ("server", "store", "whatsapp", "chat", chat, "privacy")
    config.write_text(config_toml(settings, *sections), encoding="utf-8")
    listing = workdir / "loaded.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUN_AND_LIST_LOADED,
        str(listing),
        "run",
        "--config",
        str(config),
        cwd=ROOT,
    )
    run = Run(process)
    try:
        yield run
        process.send_signal(signal.SIGUSR2)
        async with asyncio.timeout(LISTING_SECONDS):
            while not listing.exists():
                assert process.returncode is None, "empfang run exited"
                await asyncio.sleep(0.05)
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 30) == 0
    loaded = json.loads(listing.read_text())
    run.modules = set(loaded["modules"])
    run.sources = loaded["sources"]
    run.frozen = loaded["frozen"]
