"""Customers' files → a local Synapse: throughput, webhook → file visible, the bot's memory.

Starts a throwaway Synapse with a support room, the WhatsApp sandbox in this process (it
holds the customers' files and serves them like Meta's media host) and the bot as its own
process (``rig.BotProcess``, as ``empfang run``). Each customer sends one file: by default
50 pictures of about 2 MB (JPEG noise, which does not compress, so the stripped copy stays
about as large) and 5 PDF documents of 50 MB (50·10⁶ bytes, under Synapse's default
``max_upload_size`` of 50 MiB). All are sent at once; the agent's ``/sync`` notes when each
file event (``m.image`` / ``m.file``) appears in its customer's thread.

Prints throughput (files and MB per second, first send → last file visible), p50/p99/max of
webhook sent → file visible, and the bot's resident memory: before the run, sampled every
50 ms during it, and the kernel's high-water mark (``VmHWM``). The issue's target: peak
growth under 30 MB, which only holds if no file is ever held in memory whole.

    .venv/bin/python bench/media.py [--images 50] [--image-mb 2] [--documents 5] [--document-mb 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import rig
from PIL import Image
from synapse_rig import room_events

from bot.demo.stack import (
    SupportRoom,
    create_support_room,
    free_port,
    stack_settings,
    wait_for,
)
from bot.demo.synapse import LocalSynapse
from bot.sandbox import SandboxServer

RSS_GROWTH_TARGET_MIB = 30.0
FILE_MSGTYPES = frozenset({"m.image", "m.file", "m.video", "m.audio"})


def noise_jpeg(megabytes: float) -> bytes:
    """A JPEG of random pixels of about ``megabytes`` MB (noise keeps its size when re-encoded)."""
    side = int((megabytes * 1_000_000 / 1.4) ** 0.5)
    while True:
        picture = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=90)
        if out.tell() >= megabytes * 1_000_000 * 0.95:
            return out.getvalue()
        side = int(side * 1.05)


def pdf(megabytes: float) -> bytes:
    size = int(megabytes * 1_000_000)
    head, tail = b"%PDF-1.4\n", b"\n%%EOF\n"
    return head + os.urandom(size - len(head) - len(tail)) + tail


class Watcher:
    """The agent's client: which benchmark indices each thread holds (from the customers'
    lines) and when the first file event showed in each thread."""

    def __init__(self) -> None:
        self.indices: dict[str, set[int]] = {}
        self.file_seen: dict[str, float] = {}

    def seen(self, index: int) -> float | None:
        for thread, indices in self.indices.items():
            if index in indices:
                return self.file_seen.get(thread)
        return None

    async def run(self, room: SupportRoom, stop: asyncio.Event) -> None:
        async for event, now in room_events(room, stop):
            self._note(event.get("content", {}), now)

    def _note(self, content: dict[str, Any], now: float) -> None:
        relation = content.get("m.relates_to", {})
        if relation.get("rel_type") != "m.thread":
            return
        thread = str(relation.get("event_id"))
        self.indices.setdefault(thread, set()).update(rig.untag(str(content.get("body", ""))))
        if content.get("msgtype") in FILE_MSGTYPES:
            self.file_seen.setdefault(thread, now)


def memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of the process in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


async def sample_rss(pid: int, samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(FileNotFoundError):
            samples.append(memory(pid)[0])
        await asyncio.sleep(0.05)


async def warm_up(sandbox: SandboxServer, watcher: Watcher, image: bytes, first: int) -> None:
    """One picture and one small document through the whole path before measuring, so
    the baseline includes what the first file loads once (Pillow's codecs, nio's upload
    path, connection pools), not per file."""
    for offset, (content, mime, kind) in enumerate(
        [(image, "image/jpeg", "image"), (pdf(0.5), "application/pdf", "document")]
    ):
        index = first + offset
        stored = sandbox.put_on_phone(content, mime, f"warm-{rig.tag(index)}.pdf")
        sandbox.send_message(
            {
                "from": "+" + rig.customer(index),
                "type": kind,
                "media_id": stored["media_id"],
                "caption": f"Datei {rig.tag(index)}",
            }
        )

    async def done() -> bool:
        return all(watcher.seen(first + offset) is not None for offset in (0, 1))

    await wait_for(done, within=120, interval=0.2)
    await asyncio.sleep(1.0)


async def run(args: argparse.Namespace) -> int:
    files: list[tuple[bytes, str, str]] = []
    image = noise_jpeg(args.image_mb)
    document = pdf(args.document_mb)
    files += [(image, "image/jpeg", "image")] * args.images
    files += [(document, "application/pdf", "document")] * args.documents
    total_mb = sum(len(content) for content, _, _ in files) / 1_000_000
    sent: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="empfang-bench-media-") as workdir:
        async with LocalSynapse(Path(workdir) / "synapse") as homeserver:
            room = await create_support_room(homeserver, tag="media")
            settings = stack_settings(
                Path(workdir),
                room,
                bot_port=free_port(),
                whatsapp={"app_secret": rig.SECRET},
                logging={"level": "WARNING"},
            )
            sandbox = SandboxServer(settings, port=0)
            await sandbox.start()
            settings.whatsapp.api_base = sandbox.graph_url
            bot = rig.BotProcess(settings)
            await bot.start()
            watcher = Watcher()
            stop = asyncio.Event()
            watching = asyncio.create_task(watcher.run(room, stop))
            samples: list[float] = []
            sampling = asyncio.create_task(sample_rss(bot.pid, samples, stop))
            try:
                await asyncio.sleep(2.0)  # the bot's first sync settles
                cold = memory(bot.pid)[0]
                await warm_up(sandbox, watcher, image, len(files))
                before, hwm_before = memory(bot.pid)
                mark = len(samples)  # samples from here on are the measured run
                for index, (content, mime, kind) in enumerate(files):
                    name = f"Vertrag-{rig.tag(index)}.pdf" if kind == "document" else None
                    stored = sandbox.put_on_phone(content, mime, name)
                    spec = {
                        "from": "+" + rig.customer(index),
                        "type": kind,
                        "media_id": stored["media_id"],
                        "caption": f"Datei {rig.tag(index)}",
                    }
                    sent[index] = time.monotonic()
                    sandbox.send_message(spec)

                async def all_visible() -> bool:
                    return all(watcher.seen(i) is not None for i in sent)

                with contextlib.suppress(TimeoutError):
                    await wait_for(all_visible, within=args.timeout, interval=0.2)
                after, hwm_after = memory(bot.pid)
            finally:
                stop.set()
                await asyncio.gather(watching, sampling, return_exceptions=True)
                await bot.stop()
                await sandbox.stop()
    visible = {i: watcher.seen(i) for i in sent}
    delays = [(at - sent[i]) * 1000 for i, at in visible.items() if at is not None]
    print(rig.machine())
    print(
        f"files: {args.images} pictures of {len(image) / 1e6:.1f} MB and {args.documents} PDF of "
        f"{len(document) / 1e6:.0f} MB ({total_mb:.0f} MB), one per customer, sent at once; "
        f"visible in their threads: {len(delays)}"
    )
    if not delays:
        return 1
    span = max(at for at in visible.values() if at is not None) - min(sent.values())
    rate = f"{len(delays) / span:.2f} files/s, {total_mb / span:.1f} MB/s"
    print(f"throughput: {rate} over {span:.1f} s")
    print(
        f"webhook sent → file visible (ms): p50 {statistics.median(delays):.0f}, "
        f"p99 {rig.percentile(delays, 0.99):.0f}, max {max(delays):.0f}"
    )
    peak = max([after, *samples[mark:]])
    growth = max(peak, hwm_after if hwm_after > hwm_before else 0.0) - before
    print(
        f"bot RSS (MiB): at start {cold:.1f}, after one warm-up file of each kind {before:.1f}, "
        f"peak sampled {peak:.1f}, after {after:.1f}, high-water mark {hwm_before:.1f} → "
        f"{hwm_after:.1f}; peak growth over the warmed-up baseline {growth:.1f} "
        f"(target < {RSS_GROWTH_TARGET_MIB:g})"
    )
    return 0 if len(delays) == len(sent) and growth < RSS_GROWTH_TARGET_MIB else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--image-mb", type=float, default=2.0)
    parser.add_argument("--documents", type=int, default=5)
    parser.add_argument("--document-mb", type=float, default=50.0)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait")
    raise SystemExit(asyncio.run(run(parser.parse_args())))
