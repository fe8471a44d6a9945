"""Webhook acknowledged → event visible in the Matrix room, against a local Synapse.

Starts a throwaway Synapse, the WhatsApp sandbox (for the bot's outbound side) and the bot as
its own process (`empfang run`), then sends N signed customer webhooks straight at the bot,
paced, and watches the room through the agent's /sync. Prints p50/p99/max of the delay from
the bot's 200 to the agent's client seeing the event, and the bot's resident memory after.

    .venv/bin/python bench/matrix_latency.py [--messages 200] [--rate 10] [--customers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.demo.stack import SupportRoom, create_support_room, free_port, wait_for  # noqa: E402
from bot.demo.synapse import LocalSynapse  # noqa: E402
from bot.sandbox import SandboxServer, payloads  # noqa: E402

SECRET = "bench-app-secret-0123456789"
CUSTOMER_PREFIX = "49151000000"


def config_toml(workdir: Path, room: SupportRoom, bot_port: int, sandbox_port: int) -> str:
    return f"""
[server]
host = "127.0.0.1"
port = {bot_port}
[store]
path = "{workdir / "bench.sqlite3"}"
[whatsapp]
provider = "sandbox"
phone_number_id = "106540352242922"
access_token = "bench-access-token"
app_secret = "{SECRET}"
verify_token = "bench-verify-token"
[sandbox]
port = {sandbox_port}
[chat]
platform = "matrix"
[matrix]
homeserver = "{room.homeserver.base_url}"
user_id = "{room.bot.user_id}"
access_token = "{room.bot.access_token}"
device_id = "{room.bot.device_id}"
room_id = "{room.room_id}"
store_path = "{workdir / "matrix-store"}"
[privacy]
pseudonym_key = "bench-pseudonym-key-0123456789"
[logging]
level = "WARNING"
"""


BUSINESS = payloads.BusinessNumber("102290129340398", "106540352242922", "15550783881")


def webhook(index: int, customers: int) -> bytes:
    """A signed-ready text webhook built by the sandbox's own payload builders."""
    customer = f"{CUSTOMER_PREFIX}{index % customers:02d}"
    message = payloads.inbound_message(
        payloads.text(f"bench-{index}"),
        sender=customer,
        wamid=f"wamid.bench{index:06d}",
        timestamp=str(int(time.time())),
    )
    doc = payloads.messages_webhook(
        BUSINESS, [payloads.contact_profile(customer, "Bench")], [message]
    )
    return payloads.encode(doc)


async def watch(room: SupportRoom, seen: dict[str, float], stop: asyncio.Event) -> None:
    base = room.homeserver.base_url
    headers = {"Authorization": f"Bearer {room.agent.access_token}"}
    async with httpx.AsyncClient(trust_env=False, timeout=40) as client:
        first = await client.get(f"{base}/_matrix/client/v3/sync", headers=headers)
        since = first.json()["next_batch"]
        while not stop.is_set():
            response = await client.get(
                f"{base}/_matrix/client/v3/sync",
                params={"since": since, "timeout": "1000"},
                headers=headers,
            )
            body = response.json()
            since = body["next_batch"]
            now = time.monotonic()
            timeline = body.get("rooms", {}).get("join", {}).get(room.room_id, {})
            for event in timeline.get("timeline", {}).get("events", []):
                text = str(event.get("content", {}).get("body", ""))
                if text.startswith("bench-"):
                    seen.setdefault(text, now)


async def _all_seen(seen: dict[str, float], messages: int) -> bool:
    return len(seen) >= messages


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(messages: int, rate: float, customers: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="empfang-bench-"))
    async with LocalSynapse(workdir / "synapse") as homeserver:
        room = await create_support_room(homeserver, tag="bench")
        bot_port, sandbox_port = free_port(), free_port()
        config = workdir / "config.toml"
        config.write_text(config_toml(workdir, room, bot_port, sandbox_port))
        settings = Settings(
            whatsapp={"app_secret": SECRET, "access_token": "bench-access-token"},
            server={"port": bot_port},
            sandbox={"port": sandbox_port},
        )
        sandbox = SandboxServer(settings)
        await sandbox.start()
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config), cwd=ROOT
        )
        url = f"http://127.0.0.1:{bot_port}"
        seen: dict[str, float] = {}
        acked: dict[str, float] = {}
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(room, seen, stop))
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
                for _ in range(200):
                    try:
                        if (await client.get(f"{url}/readyz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.1)
                await asyncio.sleep(1.0)  # let the bot's first sync settle
                for index in range(messages):
                    raw = webhook(index, customers)
                    signature = payloads.signature(SECRET, raw)
                    response = await client.post(
                        f"{url}/webhooks/whatsapp",
                        content=raw,
                        headers={
                            "X-Hub-Signature-256": signature,
                            "Content-Type": "application/json",
                        },
                    )
                    assert response.status_code == 200, response.text
                    acked[f"bench-{index}"] = time.monotonic()
                    await asyncio.sleep(1 / rate)
            await wait_for(lambda: _all_seen(seen, messages), within=60, interval=0.2)
            memory = rss_mib(bot.pid)
        finally:
            stop.set()
            await asyncio.gather(watcher, return_exceptions=True)
            bot.terminate()
            await bot.wait()
            await sandbox.stop()
    delays = [(seen[k] - acked[k]) * 1000 for k in acked if k in seen]
    print(
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    print(
        f"messages: {messages} from {customers} customers at {rate:g}/s; "
        f"visible in room: {len(delays)}"
    )
    print(
        f"ack → visible in room (ms): p50 {statistics.median(delays):.1f}, "
        f"p99 {percentile(delays, 0.99):.1f}, max {max(delays):.1f}"
    )
    print(f"bot resident memory after the run: {memory:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="webhooks per second")
    parser.add_argument("--customers", type=int, default=10, help="distinct senders")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.rate, args.customers))
