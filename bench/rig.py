"""What the relay benchmarks share: signed webhooks from the sandbox's payload builders, an
open-loop sender, the bot and the zero-latency chat fakes as processes of their own, and
the measurements (percentiles, CPU, resident memory, the machine).

Each part runs in its own process because the machine has two cores: a load generator or
a fake sharing the bot's event loop would be measured as the bot's latency. Times are
``time.monotonic()`` (``CLOCK_MONOTONIC``), one clock for all processes on the machine, so
the driver compares its send times with the fakes' receive times directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import pickle
import platform
import re
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

import aiohttp
from procstat import machine_ticks

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.demo.stack import free_port, wait_for  # noqa: E402
from bot.sandbox import payloads  # noqa: E402

SECRET = "bench-app-secret-0123456789"
BUSINESS = payloads.BusinessNumber("102290129340398", "106540352242922", "15550783881")
TAG = re.compile(r"bench-([a-z]+)")
"""Marks a benchmark message in the chat; letters only, so masking leaves it alone."""

Platform = Literal["matrix", "slack"]


# -- webhooks -------------------------------------------------------------------------------


def customer(index: int) -> str:
    """The ``index``-th benchmark customer: a valid German mobile number (0151 …)."""
    return f"49151{index:08d}"


def tag(index: int) -> str:
    """``bench-`` and ``index`` in base 26 (letters): found again in the chat post."""
    letters = ""
    while True:
        index, digit = divmod(index, 26)
        letters = chr(ord("a") + digit) + letters
        if not index:
            return f"bench-{letters}"


def untag(text: str) -> list[int]:
    """The indices of every benchmark message in a post (a Slack post may combine some)."""
    found = []
    for letters in TAG.findall(text):
        index = 0
        for letter in letters:
            index = index * 26 + ord(letter) - ord("a")
        found.append(index)
    return found


def text_webhook(index: int, sender: str) -> bytes:
    """One customer text message as Meta sends it, built by the sandbox's own builders;
    the text carries :func:`tag` of ``index`` and the wamid is unique per index."""
    message = payloads.inbound_message(
        payloads.text(tag(index)),
        sender=sender,
        wamid=f"wamid.bench{index:08d}",
        timestamp=str(int(time.time())),
    )
    doc = payloads.messages_webhook(
        BUSINESS, [payloads.contact_profile(sender, "Bench")], [message]
    )
    encoded: bytes = payloads.encode(doc)
    return encoded


class SignedWebhook:
    """Message ``index`` from ``sender``, built and signed ahead of its send time."""

    def __init__(self, index: int, sender: str) -> None:
        self.index = index
        self.body = text_webhook(index, sender)
        self.headers = {
            "X-Hub-Signature-256": payloads.signature(SECRET, self.body),
            "Content-Type": "application/json",
        }

    async def post(self, session: aiohttp.ClientSession, url: str) -> int:
        """POST it to the bot's webhook ``url``; the HTTP status, 0 if the connection failed."""
        try:
            async with session.post(url, data=self.body, headers=self.headers) as response:
                await response.read()
                return response.status
        except aiohttp.ClientError:
            return 0


def webhook_url(bot_url: str) -> str:
    return f"{bot_url}/webhooks/whatsapp"


# -- the open-loop sender -------------------------------------------------------------------


@dataclass
class Traffic:
    """What the sender did: per message index its scheduled send time and its 200's time.

    Latencies count from the *scheduled* time, so a sender or bot that falls behind shows
    up in the figures instead of silently lowering the rate (no coordinated omission).
    """

    scheduled: dict[int, float] = field(default_factory=dict)
    acked: dict[int, float] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    late: int = 0
    """Sends that left more than 1 ms after their slot (the sender could not keep up)."""

    def ack_ms(self, indices: Iterable[int] | None = None) -> list[float]:
        keys = self.acked if indices is None else (i for i in indices if i in self.acked)
        return [(self.acked[i] - self.scheduled[i]) * 1000 for i in keys]


class Sender:
    """Sends signed webhooks to the bot on a fixed schedule, whatever the answers take."""

    def __init__(self, url: str, traffic: Traffic, *, connections: int = 256) -> None:
        self._url = webhook_url(url)
        self.traffic = traffic
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Sender:
        connector = aiohttp.TCPConnector(limit=self._connections)
        self._session = aiohttp.ClientSession(connector=connector)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.drain()
        if self._session is not None:
            await self._session.close()

    async def drain(self) -> None:
        """Wait for every request in flight."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def send(self, messages: Iterable[tuple[int, str]], rate: float) -> None:
        """Send ``(index, sender)`` messages at ``rate`` per second, open loop: each request
        leaves at its slot without waiting for earlier answers."""
        started = time.monotonic()
        for n, (index, sender) in enumerate(messages):
            request = SignedWebhook(index, sender)
            slot = started + n / rate
            wait = slot - time.monotonic()
            if wait < -0.001:
                self.traffic.late += 1
            await asyncio.sleep(max(wait, 0.0))  # yields even when late: answers come in
            self.traffic.scheduled[index] = slot
            task = asyncio.create_task(self._post(request))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _post(self, request: SignedWebhook) -> None:
        assert self._session is not None
        status = await request.post(self._session, self._url)
        if status == 200:
            self.traffic.acked[request.index] = time.monotonic()
        self.traffic.statuses[status] += 1


# -- processes ------------------------------------------------------------------------------


async def wait_ready(url: str, within: float, *, alive: Callable[[], bool]) -> None:
    """Wait until the bot at ``url`` answers ``/readyz`` with 200; RuntimeError if it does
    not within ``within`` s or ``alive`` says its process has ended."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline and alive():
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the bot did not become ready within {within:.0f}s")


class BotProcess:
    """``bot.app.Empfang`` in a child process (``bench/bot_process.py``); :meth:`stop`
    sends SIGTERM, which drains it like ``empfang run``."""

    def __init__(self, settings: Settings, *, slack_post_interval: float | None = None) -> None:
        self.url = f"http://{settings.server.host}:{settings.server.port}"
        self.store = Path(settings.store.path)
        pickled = self.store.with_name("bench-settings.pickle")
        pickled.write_bytes(pickle.dumps(settings))
        self._argv = [sys.executable, str(Path(__file__).with_name("bot_process.py")), str(pickled)]
        if slack_post_interval is not None:
            self._argv.append(str(slack_post_interval))
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    async def start(self, within: float = 60.0) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *self._argv, stdin=asyncio.subprocess.DEVNULL
        )
        process = self._process
        await wait_ready(self.url, within, alive=lambda: process.returncode is None)

    async def stop(self) -> None:
        if self._process is None or self._process.returncode is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self._process.wait(), 60)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()


def _serve_fake(platform_name: Platform, conn: Connection) -> None:
    """The fakes' process: the chat platform (zero latency), answering the driver's
    commands on ``conn``: ``("http", bot_url)``, ``("received",)``, ``("stop",)``."""
    asyncio.run(_fake_main(platform_name, conn))


async def _fake_main(platform_name: Platform, conn: Connection) -> None:
    from fake_matrix import FakeHomeserver
    from fake_slack import FakeSlackApi

    loop = asyncio.get_running_loop()
    fake = FakeHomeserver() if platform_name == "matrix" else FakeSlackApi()
    conn.send(await fake.start())
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command[0] == "http" and isinstance(fake, FakeSlackApi):
            fake.use_http(command[1])
        elif command[0] == "received":
            conn.send(fake.received)
        else:
            await fake.stop()
            conn.send("stopped")
            return


class FakeProcess:
    """The chat platform's fake in a child process (see :func:`_serve_fake`)."""

    def __init__(self, platform_name: Platform) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve_fake, args=(platform_name, child), name="empfang-bench-fake"
        )
        self.platform: Platform = platform_name
        self.base_url = ""

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    async def start(self) -> str:
        self._process.start()
        self.base_url = str(await asyncio.to_thread(self._conn.recv))
        return self.base_url

    async def deliver_to(self, bot_url: str) -> None:
        """Slack: deliver events to the bot's HTTP endpoints."""
        if self.platform == "slack":
            self._conn.send(("http", bot_url))

    async def received(self) -> list[tuple[float, str]]:
        """Every post the platform received so far: (monotonic time, text)."""
        self._conn.send(("received",))
        result: list[tuple[float, str]] = await asyncio.to_thread(self._conn.recv)
        return result

    async def stop(self) -> None:
        if self._process.is_alive():
            self._conn.send(("stop",))
            with contextlib.suppress(EOFError):
                await asyncio.to_thread(self._conn.recv)
        self._process.join(10)


@dataclass
class Stack:
    """The bot and its chat fake, running."""

    bot: BotProcess
    fake: FakeProcess

    async def posted(self, indices: Iterable[int], within: float) -> dict[int, float]:
        """When the platform first received each of ``indices`` (waits up to ``within`` s
        for all of them; what never arrived is missing from the answer)."""
        wanted = set(indices)
        deadline = time.monotonic() + within
        while True:
            first: dict[int, float] = {}
            for at, text in await self.fake.received():
                for index in untag(text):
                    if index in wanted and index not in first:
                        first[index] = at
            if len(first) == len(wanted) or time.monotonic() > deadline:
                return first
            await asyncio.sleep(0.5)


@contextlib.asynccontextmanager
async def running(platform_name: Platform, workdir: Path, **sections: Any) -> AsyncIterator[Stack]:
    """The fake, then the bot against it (fresh store under ``workdir``); both stopped after."""
    fake = FakeProcess(platform_name)
    base_url = await fake.start()
    try:
        settings = bot_settings(platform_name, base_url, workdir, **sections)
        # Slack's pacing off; a Matrix bot must not import the Slack adapter (its RSS counts).
        pacing = 0.0 if platform_name == "slack" else None
        bot = BotProcess(settings, slack_post_interval=pacing)
        try:
            await bot.start()
            await fake.deliver_to(bot.url)
            yield Stack(bot, fake)
        finally:
            await bot.stop()
    finally:
        await fake.stop()


def bot_settings(
    platform_name: Platform, fake_url: str, workdir: Path, **sections: Any
) -> Settings:
    """The bot against the fake chat platform; WhatsApp points at a port nobody serves
    (relaying customer messages into the chat never calls WhatsApp)."""
    from fake_matrix import ACCESS_TOKEN, DEVICE_ID, ROOM_ID, USER_ID

    from tests.fakes.slack import BOT_TOKEN, CHANNEL, SIGNING_SECRET

    chat: dict[str, Any]
    if platform_name == "matrix":
        chat = {
            "matrix": {
                "homeserver": fake_url,
                "user_id": USER_ID,
                "access_token": ACCESS_TOKEN,
                "device_id": DEVICE_ID,
                "room_id": ROOM_ID,
                "store_path": str(workdir / "matrix-store"),
            }
        }
    else:
        chat = {
            "slack": {
                "bot_token": BOT_TOKEN,
                "channel_id": CHANNEL,
                "signing_secret": SIGNING_SECRET,
                "api_base": fake_url,
            }
        }
    data: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": free_port()},
        "store": {"path": str(workdir / "bench.sqlite3")},
        "whatsapp": {
            "provider": "sandbox",
            "phone_number_id": BUSINESS.phone_number_id,
            "access_token": "bench-access-token",
            "app_secret": SECRET,
            "verify_token": "bench-verify-token",
        },
        "sandbox": {"host": "127.0.0.1", "port": free_port()},
        "chat": {"platform": platform_name},
        "privacy": {"pseudonym_key": "bench-pseudonym-key-0123456789"},
        "logging": {"level": "WARNING"},
        **chat,
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Settings(**data)


def due_jobs(store: Path) -> int:
    """Jobs due now (relay work outstanding); the day-long timers are not due."""
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as conn:
        query = "SELECT count(*) FROM jobs WHERE state = 'pending' AND run_after <= ?"
        return int(conn.execute(query, (time.time(),)).fetchone()[0])


async def drained(store: Path, within: float) -> float:
    """Wait until no job is due (at most ``within`` s); seconds waited."""

    async def idle() -> bool:
        return not due_jobs(store)

    started = time.monotonic()
    with contextlib.suppress(TimeoutError):
        await wait_for(idle, within=within, interval=1.0)
    return time.monotonic() - started


# -- measurements ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` from 0 to 1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


SPEED_PROBE_LOOPS = 300_000
"""Iterations of the speed probe's loop: 12-14 ms of CPU on the development VM when its
host is quiet, 20-23 ms when it is not."""


def speed_probe() -> float:
    """Milliseconds of CPU that a fixed piece of pure-Python work takes (best of five).

    On the shared development VM the same bot took 3.1 to 4.2 ms of CPU per message relayed
    into Slack in runs minutes apart, with nothing else running in the VM: the host's other
    guests slow its CPUs (a shared core, not reported as steal). Taken before and after a
    run, the probe tells a slow host from a slow bot; lower is faster.
    """
    best = float("inf")
    for _ in range(5):
        started = time.thread_time()
        total = 0
        for value in range(SPEED_PROBE_LOOPS):
            total += value * value
        best = min(best, time.thread_time() - started)
    return best * 1000


def _cpu_ticks() -> tuple[int, int]:
    """All cores' ticks so far, and the ticks stolen by the hypervisor."""
    ticks = machine_ticks()
    return sum(ticks), ticks[7]


class Steal:
    """The share of the machine's CPU time that the hypervisor gave to other guests while
    a run lasted: time this VM's CPUs had work and were not run."""

    def __init__(self) -> None:
        self._total, self._stolen = _cpu_ticks()

    def percent(self) -> float:
        total, stolen = _cpu_ticks()
        return 100 * (stolen - self._stolen) / max(total - self._total, 1)


def machine() -> str:
    """nproc, CPU model, Python and SQLite versions, and the load when the run started."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    load = os.getloadavg()[0]
    return (
        f"machine: nproc {os.cpu_count()}, {model}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}; load average {load:.2f} at start"
    )


def queued_jobs(store: Path) -> dict[str, int]:
    """Jobs left in the bot's queue as ``kind/state``: done jobs are deleted, so after a
    drained run anything here is work that did not go through (dead letters, retries)."""
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as conn:
        query = "SELECT kind, state, count(*) FROM jobs GROUP BY kind, state"
        rows = conn.execute(query).fetchall()
    return {f"{kind}/{state}": int(count) for kind, state, count in rows}
