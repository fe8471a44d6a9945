"""Ingest benchmark: signed WhatsApp webhooks per second the bot accepts, and how fast it acks.

Runs, in one go (see bench/README.md):

1. a bare aiohttp handler (``bench/bare_server.py``: HMAC check + ``json.loads``) driven to
   saturation with wrk: the ceiling of this machine;
2. the real bot (``empfang run --intake-only``) on a fresh SQLite file, driven to saturation
   with the same wrk setup; then every body wrk sent is looked up in the store;
3. the bot again at a fixed rate (``--rate``, paced by ``bench/wrk_signed.lua``) for latency.

Every request carries its own pre-generated body: a text message with a unique wamid from one
of many fake but valid German mobile numbers, signed with the app secret over exactly the
bytes sent. No phone number is printed; only counts are.

Usage: ``.venv/bin/python bench/ingest.py [--seconds 10] [--connections 32] [--rate 1000]``
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from procstat import CLK_TCK, machine_ticks, process_cpu_seconds

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
LUA_SCRIPT = BENCH_DIR / "wrk_signed.lua"
BARE_SERVER = BENCH_DIR / "bare_server.py"
WEBHOOK_PATH = "/webhooks/whatsapp"

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
DISPLAY_NUMBER = "15550783881"
MOBILE_PREFIX = "49151"  # + 8 digits: a valid German mobile number (0151 …)
PROFILE_NAMES = ("Anna", "Jonas", "Mehmet", "Sophie", "Lukas", "Aylin", "Paul", "Mia")
TEXTS = (
    "Guten Tag, ich hätte eine Frage zu meiner Bestellung.",
    "Können Sie mir bitte die Öffnungszeiten am Samstag schicken?",
    "Danke, das hat geklappt! 😊",
    "Ist der Termin morgen um 14 Uhr noch frei? Ich würde gern vorbeikommen.",
    "Grüße aus Köln – mein Paket ist leider noch nicht angekommen.",
    "Hallo",
)
# Meta's published signature test vector (also in tests/sandbox/test_sandbox_payloads.py):
# checks our signing before any run.
TEST_VECTOR = (
    b"test_app_secret",
    b'{"object":"whatsapp_business_account","entry":[]}',
    "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756",
)
MAX_POOL = 400_000  # bodies per pool; wrk (LuaJIT) holds them all in memory
RATIO_TARGET = 0.4  # bot msgs/s as a share of the ceiling
P99_TARGET_MS = 10.0  # ack latency at the fixed rate
OTHER_CPU_WARN_PCT = 10.0  # busy CPU of processes other than server and wrk, % of one core


class BenchError(Exception):
    """Something stopped the benchmark; the message says what."""


# ---------------------------------------------------------------------------------------------
# Webhook bodies
# ---------------------------------------------------------------------------------------------


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def wire_bytes(obj: object) -> bytes:
    """Meta's wire form: escaped unicode, no spaces (docs §5)."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def make_senders(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct fake German mobile numbers (wa_id form: digits, no '+')."""
    import phonenumbers  # the bot's dependency; only used to prove the numbers are valid

    numbers: set[str] = set()
    while len(numbers) < count:
        number = MOBILE_PREFIX + f"{rng.randrange(10**8):08d}"
        if phonenumbers.is_valid_number(phonenumbers.parse("+" + number)):
            numbers.add(number)
    return sorted(numbers)


def text_webhook(wamid: str, sender: str, name: str, text: str, timestamp: int) -> bytes:
    """One inbound text message in the Cloud API envelope (docs §2)."""
    return wire_bytes(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA_ID,
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": DISPLAY_NUMBER,
                                    "phone_number_id": PHONE_NUMBER_ID,
                                },
                                "contacts": [{"profile": {"name": name}, "wa_id": sender}],
                                "messages": [
                                    {
                                        "from": sender,
                                        "id": wamid,
                                        "timestamp": str(timestamp),
                                        "type": "text",
                                        "text": {"body": text},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    )


@dataclass(frozen=True)
class Pool:
    """Pre-signed bodies for one wrk run; wrk thread ``t`` sends indices ``t, t+T, …``."""

    name: str
    prefix: Path  # wrk_signed.lua reads <prefix>.<thread>
    wamids: tuple[str, ...]
    threads: int

    def sent_indices(self, sent_per_thread: Sequence[int]) -> set[int]:
        """Which bodies wrk sent, given how many requests each thread sent (in file order)."""
        indices: set[int] = set()
        for tid, sent in enumerate(sent_per_thread):
            own = range(tid, len(self.wamids), self.threads)
            indices.update(own[: min(sent, len(own))])
        return indices

    def cycled(self, sent_per_thread: Sequence[int]) -> int:
        """Requests that re-sent a body already sent in this run (redeliveries)."""
        return sum(sent_per_thread) - len(self.sent_indices(sent_per_thread))


def make_pool(
    name: str,
    size: int,
    *,
    workdir: Path,
    threads: int,
    secret: bytes,
    senders: Sequence[str],
    rng: random.Random,
) -> Pool:
    tag = secrets.token_hex(4).encode()
    now = int(time.time())
    prefix = workdir / f"pool-{name}"
    files = [
        (prefix.parent / f"{prefix.name}.{t}").open("w", encoding="ascii") for t in range(threads)
    ]
    wamids: list[str] = []
    try:
        for index in range(size):
            raw = b"\x15\x02\x00\x12BENCH" + tag + index.to_bytes(4, "big") + rng.randbytes(6)
            wamid = "wamid." + base64.b64encode(raw).decode("ascii")
            sender = rng.choice(senders)
            name_ = PROFILE_NAMES[int(sender) % len(PROFILE_NAMES)]
            body = text_webhook(wamid, sender, name_, rng.choice(TEXTS), now - rng.randrange(60))
            signature = sign(secret, body).removeprefix("sha256=")
            files[index % threads].write(f"{signature}\t{body.decode('ascii')}\n")
            wamids.append(wamid)
    finally:
        for fh in files:
            fh.close()
    return Pool(name, prefix, tuple(wamids), threads)


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


def busy_cpu_seconds() -> tuple[float, float]:
    """CPU time since boot over all cores (/proc/stat): (processes, kernel irq + softirq).

    Loopback TCP is mostly softirq work, charged to no process, so it is kept apart from
    the processes' time (user + nice + system; guest time is part of user already)."""
    user, nice, system, _idle, _iowait, irq, softirq, _steal = machine_ticks()
    return (user + nice + system) / CLK_TCK, (irq + softirq) / CLK_TCK


def wait_until_quiet(max_wait: float) -> float:
    """Wait (at most ``max_wait`` s) for a second in which the machine is nearly idle, so
    other work (tests, builds) does not end up in the figures; returns the last busy %."""
    deadline = time.monotonic() + max_wait
    while True:
        before, started = sum(busy_cpu_seconds()), time.monotonic()
        time.sleep(1.0)
        busy = 100 * (sum(busy_cpu_seconds()) - before) / (time.monotonic() - started)
        if busy <= OTHER_CPU_WARN_PCT or time.monotonic() >= deadline:
            return busy


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    """Our environment minus EMPFANG_* (they would override the bench config)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("EMPFANG_")}
    env.update(extra)
    return env


class Server:
    """A server subprocess in its own session (a terminal's Ctrl-C does not reach it)."""

    def __init__(self, name: str, argv: Sequence[str], *, log: Path, env: dict[str, str]):
        self.name = name
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
                start_new_session=True,
            )
        self.pid = self.proc.pid

    def wait_healthy(self, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with {self.proc.returncode} before it was healthy;"
                    f" its log:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
            time.sleep(0.05)
        raise BenchError(f"{self.name} not healthy after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkRun:
    label: str
    duration_s: float  # wrk's own measurement window
    responses: int  # every completed response, any status
    non2xx: int  # status >= 400
    socket_errors: dict[str, int]
    latency_ms: dict[str, float]  # p50, p90, p99, p999, max, mean
    sent_per_thread: tuple[int, ...]
    late: int  # paced runs: requests sent > 1 ms after their slot
    max_lag_ms: float
    server_cpu_pct: float
    wrk_cpu_pct: float
    other_cpu_pct: float  # every other process on the machine (disturbance)
    irq_cpu_pct: float  # kernel interrupt work, mostly the loopback traffic itself
    output: str

    @property
    def ok(self) -> int:
        return self.responses - self.non2xx

    @property
    def ok_per_s(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0

    @property
    def sent(self) -> int:
        return sum(self.sent_per_thread)

    @property
    def unanswered(self) -> int:
        """Requests in flight when wrk stopped, or lost to socket errors."""
        return self.sent - self.responses


def wrk_argv(threads: int, connections: int, seconds: float, url: str) -> list[str]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk not found; install it: apt-get update && apt-get install -y wrk")
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    argv += ["--timeout", "10s", "--latency", "-s", str(LUA_SCRIPT), url]
    stdbuf = shutil.which("stdbuf")  # line-buffered stdout tells us when the load starts
    return [stdbuf, "-oL", *argv] if stdbuf else argv


def run_wrk(
    label: str,
    url: str,
    pool: Pool,
    *,
    seconds: float,
    connections: int,
    rate: float | None,
    server_pid: int,
    workdir: Path,
) -> WrkRun:
    result_path = workdir / f"wrk-{label}.json"
    result_path.unlink(missing_ok=True)
    argv = wrk_argv(pool.threads, connections, seconds, url)
    argv += ["--", str(pool.prefix), str(result_path), str(pool.threads)]
    if rate:
        argv.append(f"{rate:g}")
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        start = (time.monotonic(), process_cpu_seconds(server_pid), 0.0, busy_cpu_seconds())
        lines: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Running"):  # every thread has loaded its bodies
                start = (
                    time.monotonic(),
                    process_cpu_seconds(server_pid),
                    process_cpu_seconds(proc.pid),
                    busy_cpu_seconds(),
                )
        end_wall, end_server, end_busy = (
            time.monotonic(),
            process_cpu_seconds(server_pid),
            busy_cpu_seconds(),
        )
        _, status, usage = os.wait4(proc.pid, 0)  # rusage: wrk's CPU including after stop
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait()
    output = "".join(lines)
    if proc.returncode != 0 or not result_path.exists():
        raise BenchError(f"wrk failed (exit {proc.returncode}):\n{output}")
    wall = end_wall - start[0]
    wrk_cpu = usage.ru_utime + usage.ru_stime - start[2]
    server_cpu = end_server - start[1]
    other_cpu = max(0.0, end_busy[0] - start[3][0] - server_cpu - wrk_cpu)
    irq_cpu = end_busy[1] - start[3][1]
    result = json.loads(result_path.read_text(encoding="ascii"))
    threads = sorted(result["threads"], key=lambda t: int(t["tid"]))
    errors = {k: int(v) for k, v in result["errors"].items()}
    return WrkRun(
        label=label,
        duration_s=result["duration_us"] / 1e6,
        responses=int(result["requests"]),
        non2xx=errors.pop("status"),
        socket_errors=errors,
        latency_ms={k: v / 1000 for k, v in result["latency_us"].items()},
        sent_per_thread=tuple(int(t["sent"]) for t in threads),
        late=sum(int(t["late"]) for t in threads),
        max_lag_ms=max(float(t["max_lag_ms"]) for t in threads),
        server_cpu_pct=100 * server_cpu / wall,
        wrk_cpu_pct=100 * wrk_cpu / wall,
        other_cpu_pct=100 * other_cpu / wall,
        irq_cpu_pct=100 * irq_cpu / wall,
        output=output,
    )


# ---------------------------------------------------------------------------------------------
# Store verification
# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def read_store(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def store_rows(db: Path | str, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """``sql`` (``?`` placeholders) on the SQLite file, or on the PostgreSQL url ``db``."""
    if isinstance(db, Path):
        with read_store(db) as conn:
            return [tuple(row) for row in conn.execute(sql, args)]
    import asyncio

    import asyncpg

    async def fetch() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(db)
        try:
            numbered = sql
            for number in range(1, len(args) + 1):
                numbered = numbered.replace("?", f"${number}", 1)
            return [tuple(row) for row in await conn.fetch(numbered, *args)]
        finally:
            await conn.close()

    return asyncio.run(fetch())


def wait_store_quiet(path: Path | str, timeout: float = 10.0) -> None:
    """Let requests that were in flight when wrk stopped finish their commit."""
    last, stable, deadline = -1, 0, time.monotonic() + timeout
    while stable < 3 and time.monotonic() < deadline:
        ((count,),) = store_rows(path, "SELECT count(*) FROM messages")
        stable = stable + 1 if count == last else 0
        last = count
        time.sleep(0.1)


@dataclass(frozen=True)
class StoreCheck:
    distinct_sent: int
    redeliveries: int
    acknowledged: int  # 2xx responses
    refused: int  # non-2xx responses: not stored, by design
    unanswered: int  # in flight when wrk stopped, or lost to socket errors
    not_stored: int  # distinct bodies sent whose wamid is not in the store
    stored_twice: int  # whole store: rows sharing a provider_id
    jobs_short: int  # whole store: inbound messages without their relay job

    @property
    def missing(self) -> str:
        """Acknowledged but not stored: exact when every sent body is stored (or none was
        acknowledged). wrk cannot tell which request a response answered, so otherwise only
        the not-stored bodies beyond the refused and unanswered requests are provably
        acknowledged ones."""
        if self.not_stored == 0 or self.acknowledged == 0:
            return "0"
        not_acked = self.refused + self.unanswered
        if self.not_stored <= not_acked:
            return f"0..{min(self.not_stored, self.acknowledged)} (unproven)"
        return f">= {self.not_stored - not_acked}"

    @property
    def passed(self) -> bool:
        return self.missing == "0" and self.stored_twice == 0 and self.jobs_short == 0

    def short(self) -> str:
        acked = (
            f"{self.acknowledged:,} distinct"
            if self.redeliveries == 0
            else f"{self.acknowledged:,} (incl. redeliveries; {self.distinct_sent:,} distinct sent)"
        )
        return f"acknowledged: {acked}, missing from store: {self.missing}"

    def line(self) -> str:
        return (
            f"{self.short()}  [sent {self.distinct_sent:,} distinct,"
            f" redeliveries {self.redeliveries:,},"
            f" unanswered at stop {self.unanswered}, sent-not-stored {self.not_stored},"
            f" stored twice {self.stored_twice}, messages without job {self.jobs_short}]"
        )


def check_store(db: Path | str, pool: Pool, run: WrkRun) -> StoreCheck:
    wait_store_quiet(db)
    sent = pool.sent_indices(run.sent_per_thread)
    stored = {
        row[0]
        for row in store_rows(
            db,
            "SELECT provider_id FROM messages WHERE direction = 'in' AND provider_id LIKE ?",
            "wamid.%",
        )
    }
    ((twice,),) = store_rows(
        db, "SELECT count(*) - count(DISTINCT provider_id) FROM messages WHERE direction = 'in'"
    )
    ((inbound,),) = store_rows(db, "SELECT count(*) FROM messages WHERE direction = 'in'")
    ((jobs,),) = store_rows(db, "SELECT count(*) FROM jobs WHERE kind = 'relay.inbound'")
    not_stored = sum(1 for i in sent if pool.wamids[i] not in stored)
    return StoreCheck(
        distinct_sent=len(sent),
        redeliveries=run.sent - len(sent),
        acknowledged=run.ok,
        refused=run.non2xx,
        unanswered=run.unanswered,
        not_stored=not_stored,
        stored_twice=int(twice),
        jobs_short=max(0, int(inbound) - int(jobs)),
    )


# ---------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def versions() -> str:
    import aiohttp

    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout
    wrk_version = wrk.split()[1] if wrk.startswith("wrk ") else "?"
    return (
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__},"
        f" SQLite {sqlite3.sqlite_version}, wrk {wrk_version}, Linux {platform.release()}"
    )


def fmt_run(run: WrkRun) -> str:
    lat = run.latency_ms
    errors = sum(run.socket_errors.values())
    return (
        f"{run.ok_per_s:>9,.0f} msgs/s  p50 {lat['p50']:6.2f} ms  p99 {lat['p99']:7.2f} ms"
        f"  p99.9 {lat['p999']:7.2f} ms  max {lat['max']:7.1f} ms  non-2xx {run.non2xx}"
        + (f"  socket errors {run.socket_errors}" if errors else "")
        + f"  CPU server {run.server_cpu_pct:3.0f}% / wrk {run.wrk_cpu_pct:3.0f}%"
        + f" / other {run.other_cpu_pct:3.0f}% / irq {run.irq_cpu_pct:3.0f}%"
    )


def say(text: str = "", out: TextIO = sys.stdout) -> None:
    print(text, file=out, flush=True)


def disturbance_notes(run: WrkRun) -> str:
    notes = []
    if run.wrk_cpu_pct >= run.server_cpu_pct:
        notes.append(
            f"  ! wrk used {run.wrk_cpu_pct:.0f}% CPU, the server {run.server_cpu_pct:.0f}%:"
            " the load generator may be the bottleneck"
        )
    if run.other_cpu_pct > OTHER_CPU_WARN_PCT:
        notes.append(
            f"  ! other processes used {run.other_cpu_pct:.0f}% CPU during this run"
            f" (machine has {len(os.sched_getaffinity(0))} CPUs): figures are disturbed"
        )
    return "\n".join(notes)


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------


def bot_config(
    path: Path, *, port: int, db: Path | str, secret: str, synchronous: str, replica: str = ""
) -> None:
    """``db``: the SQLite file, or a PostgreSQL url (then ``replica`` names this one and its
    local files live beside ``path``)."""
    store = (
        f'url = "{db}"\npath = "{path.with_suffix(".files")}"\n\n[ha]\nreplica = "{replica}"'
        if isinstance(db, str)
        else f'path = "{db}"\nsynchronous = "{synchronous}"'
    )
    path.write_text(
        f"""[server]
host = "127.0.0.1"
port = {port}

[store]
{store}

[whatsapp]
provider = "cloud"
phone_number_id = "{PHONE_NUMBER_ID}"
access_token = "bench-access-token"
app_secret = "{secret}"
verify_token = "bench-verify-token"
api_base = "http://127.0.0.1:9/v23.0"

[privacy]
pseudonym_key = "{secrets.token_urlsafe(24)}"

[logging]
level = "INFO"
""",
        encoding="utf-8",
    )


def bot_argv(config: Path) -> list[str]:
    script = Path(sys.executable).parent / "empfang"
    if script.exists():
        return [str(script), "run", "--intake-only", "--config", str(config)]
    return [sys.executable, "-m", "bot", "run", "--intake-only", "--config", str(config)]


def pool_size(rate: float, seconds: float, connections: int, minimum: int) -> int:
    return max(minimum, min(MAX_POOL, int(rate * seconds * 1.25) + 4 * connections))


@dataclass
class Results:
    ceiling: WrkRun | None = None
    bot: WrkRun | None = None
    bot_check: StoreCheck | None = None
    paced: WrkRun | None = None
    paced_check: StoreCheck | None = None
    bot_log_problems: int = 0
    postgres: list[ReplicasRun] = field(default_factory=list)


@dataclass(frozen=True)
class ReplicasRun:
    """``--store postgresql://…``: ``count`` replicas, each driven by a wrk of its own with
    its share of the connections (saturated) or of the rate (paced), at the same time."""

    count: int
    saturated: tuple[WrkRun, ...]
    paced: tuple[WrkRun, ...]
    checks: tuple[StoreCheck, ...]
    log_problems: int

    @property
    def ok_per_s(self) -> float:
        return sum(run.ok_per_s for run in self.saturated)

    @property
    def paced_p99_ms(self) -> float:
        """The worst replica's p99 (wrk's histograms cannot be merged from its summary)."""
        return max(run.latency_ms["p99"] for run in self.paced)

    @property
    def non2xx(self) -> int:
        return sum(run.non2xx for run in (*self.saturated, *self.paced))


def bench(args: argparse.Namespace, workdir: Path, stack: contextlib.ExitStack) -> Results:
    rng = random.Random(args.seed)
    secret = "bench-" + secrets.token_hex(16)
    secret_bytes = secret.encode()
    threads, conns, seconds = args.threads, args.connections, args.seconds
    results = Results()

    def pool(name: str, size: int) -> Pool:
        started = time.monotonic()
        made = make_pool(
            name,
            size,
            workdir=workdir,
            threads=threads,
            secret=secret_bytes,
            senders=senders,
            rng=rng,
        )
        say(f"  pool {name}: {size:,} signed bodies in {time.monotonic() - started:.1f} s")
        return made

    def drive(
        label: str,
        url: str,
        p: Pool,
        server: Server,
        secs: float,
        rate: float | None,
        profile: Path | None = None,
    ) -> WrkRun:
        if args.quiet_wait > 0:
            busy = wait_until_quiet(args.quiet_wait)
            if busy > OTHER_CPU_WARN_PCT:
                say(
                    f"  ! machine still {busy:.0f}% busy after waiting {args.quiet_wait:g} s"
                    f" for quiet; running {label} anyway"
                )
        profiler = start_profiler(profile, server.pid, secs, stack) if profile else None
        run = run_wrk(
            label,
            url,
            p,
            seconds=secs,
            connections=conns,
            rate=rate,
            server_pid=server.pid,
            workdir=workdir,
        )
        if profiler is not None and profile is not None:
            finish_profiler(profiler, profile)
        if args.verbose:
            say(run.output.rstrip())
        return run

    senders = make_senders(rng, args.senders)
    say(f"senders: {len(senders):,} distinct valid German mobile numbers (not printed)")

    # 1. the ceiling: bare aiohttp, HMAC + json.loads
    port = free_port()
    bare = Server(
        "bare server",
        [sys.executable, str(BARE_SERVER), "--port", str(port)],
        log=workdir / "bare.log",
        env=child_env(BENCH_APP_SECRET=secret),
    )
    stack.callback(bare.stop)
    base = f"http://127.0.0.1:{port}"
    bare.wait_healthy(base + "/healthz")
    say(f"\n[ceiling] bare aiohttp (HMAC + JSON), pid {bare.pid}")
    bare_pool = pool("ceiling", 20_000)  # nothing is stored, so wrk may cycle through it
    if args.warmup:
        drive("ceiling-warmup", base + WEBHOOK_PATH, bare_pool, bare, args.warmup, None)
    ceiling = drive("ceiling", base + WEBHOOK_PATH, bare_pool, bare, seconds, None)
    results.ceiling = ceiling
    say("  saturation: " + fmt_run(ceiling))
    if note := disturbance_notes(ceiling):
        say(note)
    bare.stop()

    # 2. the bot at saturation, then 3. at a fixed rate
    port = free_port()
    db = workdir / "empfang.sqlite3"
    config = workdir / "bench.toml"
    bot_config(config, port=port, db=db, secret=secret, synchronous=args.synchronous)
    expected = max(ceiling.ok_per_s, 1000.0)
    warm_pool = pool("bot-warmup", pool_size(expected, args.warmup, conns, 2_000))
    sat_pool = pool("bot", pool_size(expected, seconds, conns, 10_000))
    paced_seconds = args.paced_seconds or seconds
    rate_pool = pool("paced", pool_size(args.rate, paced_seconds, conns, 2_000))
    bot = Server("bot", bot_argv(config), log=workdir / "bot.log", env=child_env())
    stack.callback(bot.stop)
    base = f"http://127.0.0.1:{port}"
    bot.wait_healthy(base + "/healthz")
    url = base + WEBHOOK_PATH
    say(f"\n[bot] empfang run --intake-only, pid {bot.pid}, store synchronous={args.synchronous}")
    if args.warmup:
        warm = drive("bot-warmup", url, warm_pool, bot, args.warmup, None)
        check = check_store(db, warm_pool, warm)
        say(f"  warm-up {args.warmup:g} s: {warm.ok:,} acknowledged, missing {check.missing}")
    sat = drive("bot", url, sat_pool, bot, seconds, None, args.profile)
    results.bot = sat
    say("  saturation: " + fmt_run(sat))
    if note := disturbance_notes(sat):
        say(note)
    results.bot_check = check_store(db, sat_pool, sat)
    say("  " + results.bot_check.line())
    if sat_pool.cycled(sat.sent_per_thread):
        say("  ! the pool was too small: redeliveries (cheaper) inflate msgs/s a little")

    time.sleep(1.0)
    paced = drive("paced", url, rate_pool, bot, paced_seconds, args.rate)
    results.paced = paced
    if note := disturbance_notes(paced):
        say(note)
    achieved = paced.sent / paced.duration_s
    say(
        f"  at {args.rate:g}/s: {fmt_run(paced)}\n"
        f"    achieved {achieved:,.0f} requests/s sent; {paced.late} sent > 1 ms behind"
        f" schedule (max lag {paced.max_lag_ms:.1f} ms)"
    )
    results.paced_check = check_store(db, rate_pool, paced)
    say("  " + results.paced_check.line())
    bot.stop()
    results.bot_log_problems = sum(
        1
        for line in bot.log.read_text(encoding="utf-8", errors="replace").splitlines()
        if " WARNING " in line or " ERROR " in line or "Traceback" in line
    )
    if results.bot_log_problems:
        say(f"  ! bot log has {results.bot_log_problems} warning/error lines ({bot.log})")
    for count in (1, 2) if args.store else ():
        results.postgres.append(bench_replicas(args, workdir, stack, count, pool, secret))
    return results


def bench_replicas(
    args: argparse.Namespace,
    workdir: Path,
    stack: contextlib.ExitStack,
    count: int,
    pool: Callable[[str, int], Pool],
    secret: str,
) -> ReplicasRun:
    """``count`` replicas of ``empfang run --intake-only`` on the PostgreSQL ``--store``,
    driven at the same time: saturated, then at ``--rate`` in total."""
    replicas: list[tuple[Server, str]] = []
    for index in range(count):
        port = free_port()
        config = workdir / f"pg{count}-replica{index}.toml"
        bot_config(
            config,
            port=port,
            db=args.store,
            secret=secret,
            synchronous=args.synchronous,
            replica=f"bench-{index}",
        )
        server = Server(
            f"replica {index}", bot_argv(config), log=config.with_suffix(".log"), env=child_env()
        )
        stack.callback(server.stop)
        server.wait_healthy(f"http://127.0.0.1:{port}/readyz")
        replicas.append((server, f"http://127.0.0.1:{port}{WEBHOOK_PATH}"))
    conns = max(args.threads, args.connections // count)
    paced_seconds = args.paced_seconds or args.seconds
    say(f"\n[postgresql] {count} replica(s) of empfang run --intake-only, {conns} connections each")

    def together(label: str, pools: list[Pool], secs: float, rate: float | None) -> list[WrkRun]:
        if args.quiet_wait > 0:
            wait_until_quiet(args.quiet_wait)
        with ThreadPoolExecutor(count) as runs:
            return list(
                runs.map(
                    lambda i: run_wrk(
                        f"{label}-{i}",
                        replicas[i][1],
                        pools[i],
                        seconds=secs,
                        connections=conns,
                        rate=rate,
                        server_pid=replicas[i][0].pid,
                        workdir=workdir,
                    ),
                    range(count),
                )
            )

    expected = 2000.0 / count
    if args.warmup:
        warm = [
            pool(f"pg{count}-warm{i}", pool_size(expected, args.warmup, conns, 2_000))
            for i in range(count)
        ]
        together(f"pg{count}-warmup", warm, args.warmup, None)
    sat_pools = [
        pool(f"pg{count}-{i}", pool_size(expected, args.seconds, conns, 10_000))
        for i in range(count)
    ]
    saturated = together(f"pg{count}", sat_pools, args.seconds, None)
    for run in saturated:
        say(f"  saturation {run.label}: " + fmt_run(run))
    time.sleep(1.0)
    rate = args.rate / count
    paced_pools = [
        pool(f"pg{count}-paced{i}", pool_size(rate, paced_seconds, conns, 2_000))
        for i in range(count)
    ]
    paced = together(f"pg{count}-paced", paced_pools, paced_seconds, rate)
    for run in paced:
        say(f"  at {rate:g}/s {run.label}: " + fmt_run(run))
    checks = [
        check_store(args.store, p, run)
        for p, run in zip([*sat_pools, *paced_pools], [*saturated, *paced], strict=True)
    ]
    for check in checks:
        say("  " + check.line())
    problems = 0
    for server, _ in replicas:
        server.stop()
        problems += sum(
            1
            for line in server.log.read_text(encoding="utf-8", errors="replace").splitlines()
            if " WARNING " in line or " ERROR " in line or "Traceback" in line
        )
    return ReplicasRun(count, tuple(saturated), tuple(paced), tuple(checks), problems)


def start_profiler(
    out: Path, pid: int, seconds: float, stack: contextlib.ExitStack
) -> subprocess.Popen[bytes]:
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        raise BenchError("--profile needs py-spy: .venv/bin/pip install py-spy")
    fmt = {".svg": "flamegraph", ".json": "speedscope", ".txt": "raw"}.get(out.suffix, "raw")
    proc = subprocess.Popen(
        [
            str(spy),
            "record",
            "--idle",  # wall time: shows where each thread waits, not only where it computes
            "--threads",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, round(seconds))),
            "--format",
            fmt,
            "--output",
            str(out),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    stack.callback(stop_process, proc)
    say(f"  profiling the bot with py-spy ({fmt}) -> {out}; figures include its overhead")
    return proc


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def finish_profiler(proc: subprocess.Popen[bytes], out: Path) -> None:
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        err = b""
    if proc.returncode != 0:
        say(f"  ! py-spy failed ({proc.returncode}): {err.decode(errors='replace').strip()}")


def table_row(name: str, run: WrkRun) -> str:
    lat = run.latency_ms
    return (
        f"{name:<14}{run.ok_per_s:>9,.0f}{lat['p50']:>9.2f}{lat['p99']:>9.2f}{lat['p999']:>9.2f}"
        f"{lat['max']:>9.1f}"
        f"{run.non2xx:>8}{run.server_cpu_pct:>7.0f}%{run.wrk_cpu_pct:>5.0f}%"
        f"{run.other_cpu_pct:>6.0f}%{run.irq_cpu_pct:>5.0f}%"
    )


def summary(args: argparse.Namespace, results: Results) -> str:
    ceiling, bot, paced = results.ceiling, results.bot, results.paced
    sat_check, paced_check = results.bot_check, results.paced_check
    assert ceiling is not None and bot is not None and paced is not None
    assert sat_check is not None and paced_check is not None
    ratio = bot.ok_per_s / ceiling.ok_per_s if ceiling.ok_per_s else 0.0
    lines = [
        f"Empfang ingest bench {date.today().isoformat()}: wrk -t{args.threads}"
        f" -c{args.connections} -d{args.seconds:g}s over loopback,"
        f" store synchronous={args.synchronous}",
        f"machine: nproc {len(os.sched_getaffinity(0))}, {cpu_model()}",
        f"         {versions()}",
        "",
        f"{'':<14}{'msgs/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>9}{'max ms':>9}"
        f"{'non-2xx':>8}"
        f"{'CPU:srv':>8}{'wrk':>6}{'other':>7}{'irq':>6}",
        table_row("ceiling (bare)", ceiling),
        table_row("bot saturated", bot),
        table_row(f"bot {args.rate:g}/s", paced),
        "",
        "CPU in % of one core: srv = the server process (all threads), wrk, other processes,",
        "irq = kernel interrupt/softirq time (mostly the loopback traffic itself)",
        "",
        f"bot/ceiling = {ratio:.2f}",
        f"saturated: {sat_check.short()}",
        f"{args.rate:g}/s: {paced_check.short()}; sent {paced.sent / paced.duration_s:,.0f}/s,"
        f" {paced.late} requests > 1 ms behind schedule",
    ]
    for replicas in results.postgres:
        lines.append(
            f"postgresql, {replicas.count} replica(s): saturated {replicas.ok_per_s:,.0f} msgs/s"
            f" ({replicas.ok_per_s / bot.ok_per_s:.2f} x SQLite), p99 at {args.rate:g}/s"
            f" {replicas.paced_p99_ms:.2f} ms"
            f" ({replicas.paced_p99_ms / paced.latency_ms['p99']:.2f} x SQLite),"
            f" non-2xx {replicas.non2xx}, store checks"
            f" {'passed' if all(c.passed for c in replicas.checks) else 'FAILED'}"
        )
    if ratio < RATIO_TARGET:
        lines.append(
            f"! bot below {RATIO_TARGET} of the ceiling: profile it with --profile /tmp/bot.svg"
        )
    if paced.latency_ms["p99"] > P99_TARGET_MS:
        lines.append(f"! p99 at {args.rate:g}/s above {P99_TARGET_MS:g} ms")
    width = max(len(line) for line in lines)
    return "\n".join(["-" * width, *lines, "-" * width])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ingest benchmark of `empfang run --intake-only` (see bench/README.md)."
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="each measured run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--rate", type=float, default=1000.0, help="fixed-rate run, msgs/s")
    parser.add_argument(
        "--paced-seconds", type=float, default=None, help="fixed-rate run (default --seconds)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each target")
    parser.add_argument("--senders", type=int, default=5000, help="distinct customer numbers")
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full")
    parser.add_argument("--seed", type=int, default=None, help="random seed for the bodies")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy output (.svg/.txt)")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="before each run, wait up to this long for other processes to go idle (0: off)",
    )
    parser.add_argument(
        "--store",
        default="",
        help="also run 1 and 2 replicas on this PostgreSQL url (a throwaway database: it is"
        " written to), as ratios to the SQLite figures of the same run",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("-v", "--verbose", action="store_true", help="show wrk's output")
    args = parser.parse_args(argv)
    if args.connections < args.threads or args.threads < 1:
        parser.error("--connections must be >= --threads >= 1")
    if args.seconds < 1 or args.rate <= 0 or args.senders < 1 or args.warmup < 0:
        parser.error("--seconds >= 1, --rate > 0, --senders >= 1, --warmup >= 0")
    return args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if sign(TEST_VECTOR[0], TEST_VECTOR[1]) != TEST_VECTOR[2]:
        raise SystemExit("signing is broken: the docs' test vector does not match")
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    with contextlib.ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="empfang-bench-"))
        if args.keep:
            say(f"work directory (kept): {workdir}")
        else:
            stack.callback(shutil.rmtree, workdir, True)
        try:
            results = bench(args, workdir, stack)
        except BenchError as exc:
            say(f"error: {exc}", sys.stderr)
            return 1
        except KeyboardInterrupt:
            say("interrupted; stopping everything", sys.stderr)
            return 130
        say()
        say(summary(args, results))
        checks = (results.bot_check, results.paced_check)
        failed = [c for c in checks if c is not None and not c.passed]
        failed += [c for run in results.postgres for c in run.checks if not c.passed]
        non2xx = sum(r.non2xx for r in (results.bot, results.paced) if r is not None)
        non2xx += sum(run.non2xx for run in results.postgres)
        problems = results.bot_log_problems + sum(run.log_problems for run in results.postgres)
        if failed or non2xx or problems:
            say("FAILED: see the store / non-2xx / bot log lines above", sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
