"""The ceiling for ``bench/ingest.py``: the least an aiohttp webhook endpoint can do.

``POST /webhooks/whatsapp`` checks ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body,
constant-time compare), parses the JSON and answers 200 ``ok``; nothing is stored.
``GET /healthz`` answers ``ok``. Same event loop (the default asyncio one) and the same
aiohttp server setup (AppRunner, no access log) as the bot, so the gap between the two is
what the bot does on top: parsing into domain objects, SQLite, the commit.

Usage: ``BENCH_APP_SECRET=… python bench/bare_server.py --port 8081`` (the secret comes from
the environment so it does not show up in ``ps``). Stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import sys

from aiohttp import web

WEBHOOK_PATH = "/webhooks/whatsapp"
PREFIX = "sha256="


def build_app(secret: bytes) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        header = request.headers.get("X-Hub-Signature-256")
        if not header or not header.startswith(PREFIX):
            return web.Response(status=401, text="signature missing")
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, header[len(PREFIX) :].strip().lower()):
            return web.Response(status=403, text="signature mismatch")
        try:
            json.loads(body)
        except ValueError:
            return web.Response(status=400, text="body is not valid JSON")
        return web.Response(text="ok")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=1_048_576)
    app.router.add_post(WEBHOOK_PATH, receive)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(host: str, port: int, secret: bytes) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(build_app(secret), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    secret = os.environ.get("BENCH_APP_SECRET", "")
    if not secret:
        print("BENCH_APP_SECRET is not set", file=sys.stderr)
        return 2
    asyncio.run(serve(args.host, args.port, secret.encode()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
