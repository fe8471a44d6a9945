"""Slow and idle clients are cut off, and connections are capped (raw sockets, real bot).

The configured limits are short (0.5 s); each client trickles for much longer (up to 20 s),
so a cut-off that does not happen fails the test instead of passing by luck.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
from collections.abc import AsyncIterator, Callable

import pytest

from adapters.whatsapp.signature import sign
from bot.app import Empfang
from bot.config import Settings
from tests.support.calls import counting
from tests.whatsapp_fixtures import MESSAGES, body, envelope

LIMIT = 0.5
TRICKLE = 40  # pieces, 0.5 s apart: 20 s if nobody cuts the client off


@pytest.fixture
async def bot(make_settings: Callable[..., Settings]) -> AsyncIterator[Empfang]:
    server = {
        "header_timeout_seconds": LIMIT,
        "body_timeout_seconds": LIMIT,
        "keepalive_timeout_seconds": LIMIT,
        "max_connections": 3,
    }
    app = Empfang(make_settings(server=server), intake_only=True)
    await app.start()
    yield app
    await app.stop()


async def connect(bot: Empfang) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    assert bot.port is not None
    return await asyncio.open_connection("127.0.0.1", bot.port)


async def trickle(writer: asyncio.StreamWriter, pieces: list[bytes]) -> int:
    """Sends piece after piece, a pause between; returns how many went out before the
    server closed the connection."""
    for sent, piece in enumerate(pieces):
        try:
            writer.write(piece)
            await writer.drain()
        except ConnectionError:
            return sent
        await asyncio.sleep(LIMIT)
        if writer.transport.is_closing():
            return sent
    return len(pieces)


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    try:
        async with asyncio.timeout(TRICKLE * LIMIT):
            return await reader.read()
    except ConnectionError:
        return b""


async def test_headers_one_line_at_a_time_are_cut_off(bot: Empfang) -> None:
    reader, writer = await connect(bot)
    lines = [b"POST /webhooks/whatsapp HTTP/1.1\r\n"] + [
        f"X-Slow-{i}: x\r\n".encode() for i in range(TRICKLE)
    ]
    sending = asyncio.create_task(trickle(writer, lines))
    assert await closed_by_server(reader) == b""
    assert await sending < TRICKLE
    writer.close()


async def test_a_body_at_one_byte_a_step_is_cut_off_with_408(bot: Empfang) -> None:
    reader, writer = await connect(bot)
    writer.write(
        b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    sending = asyncio.create_task(trickle(writer, [b"{"] * TRICKLE))
    answer = await closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert await sending < TRICKLE
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed(bot: Empfang) -> None:
    reader, writer = await connect(bot)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    answer = await closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"ok")
    writer.close()


async def test_a_keep_alive_connection_trickling_its_next_request_is_cut_off(
    bot: Empfang,
) -> None:
    reader, writer = await connect(bot)
    lines = [b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n"] + [
        f"X-Slow-{i}: x\r\n".encode() for i in range(TRICKLE)
    ]
    sending = asyncio.create_task(trickle(writer, lines))
    answer = await closed_by_server(reader)
    assert answer.count(b"HTTP/1.1 200 ") == 1
    assert await sending < TRICKLE
    writer.close()


async def test_a_webhook_that_came_whole_costs_the_limits_no_timer_and_no_spare_answer(
    bot: Empfang,
) -> None:
    """The limits run for every request: a body that arrived with its headers (a webhook
    nearly always) has no wait to bound, and a refusal is built only when it is sent."""
    raw = body(envelope(messages=[MESSAGES["text"]]))
    post = (
        b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"X-Hub-Signature-256: {sign(b'sandbox-app-secret', raw)}\r\n".encode()
        + f"Content-Length: {len(raw)}\r\n\r\n".encode()
        + raw
    )
    reader, writer = await connect(bot)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # admitted, kept alive
    await reader.readuntil(b"\r\n\r\nok")
    with counting() as counted:
        writer.write(post)
        answer = await reader.readuntil(b"\r\n\r\nok")
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert counted["aiohttp.web_response.Response.__init__"] == 1
    assert counted["asyncio.base_events.BaseEventLoop.call_at"] == 0
    writer.close()


async def test_connections_beyond_the_cap_are_closed_at_once(
    bot: Empfang, caplog: pytest.LogCaptureFixture
) -> None:
    held = [await connect(bot) for _ in range(3)]
    await asyncio.sleep(0)  # let the server accept them
    extra = [await connect(bot) for _ in range(5)]
    for reader, _ in extra:
        assert await closed_by_server(reader) == b""
    assert [r.message for r in caplog.records].count(
        "connection limit reached (3 open): refusing new connections"
    ) == 1
    for reader, _ in held:  # cut by the header timeout, which frees their places
        assert await closed_by_server(reader) == b""
    for _, writer in held + extra:
        writer.close()
    reader, writer = await connect(bot)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await closed_by_server(reader)).startswith(b"HTTP/1.1 200 ")
    writer.close()


async def test_a_cap_above_the_open_file_limit_is_warned_about(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    app = Empfang(make_settings(server={"max_connections": 10**9}), intake_only=True)
    await app.start()
    await app.stop()
    assert any("raise `ulimit -n`" in r.getMessage() for r in caplog.records)


CLIENTS = """
import socket, sys
sys.stdin.readline()
held = []
for _ in range(40):
    try:
        held.append(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2))
    except OSError:
        pass
print(len(held), flush=True)
sys.stdin.read()
"""


async def test_accepting_without_descriptors_is_logged_once(
    bot: Empfang, caplog: pytest.LogCaptureFixture
) -> None:
    """asyncio logs every failed accept with a traceback; at the descriptor limit that was a
    flood (about 290,000 lines in 22 s were seen). The clients run in another process, as
    this one is about to run out of descriptors on purpose."""
    clients = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLIENTS,
        str(bot.port),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert clients.stdin is not None and clients.stdout is not None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 1, hard))
    try:
        clients.stdin.write(b"go\n")
        await clients.stdin.drain()
        assert int(await clients.stdout.readline()) > 3
        await asyncio.sleep(3)  # asyncio tries to accept again every second
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        clients.stdin.close()
        await clients.wait()
    server = bot._server  # the count is not exposed beyond the server object
    assert server is not None and server.accept_errors is not None
    assert server.accept_errors.count >= 2
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if m.startswith("cannot accept connections")]) == 1
    assert not [m for m in messages if "socket.accept() out of system resource" in m]


@pytest.mark.parametrize(
    "framing",
    [b"Content-Length: 1000\r\n\r\n{", b"Transfer-Encoding: chunked\r\n\r\n3e8\r\n{"],
    ids=["content-length", "chunked"],
)
async def test_a_client_that_hangs_up_inside_its_body_is_not_an_error(
    bot: Empfang, caplog: pytest.LogCaptureFixture, framing: bytes
) -> None:
    """Nobody is left to answer: before, the safety net logged it at ERROR with a traceback
    ("unexpected ConnectionResetError …; answered 503"), an unverified client's doing."""
    for _ in range(3):
        _, writer = await connect(bot)
        writer.write(b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\n" + framing)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
        await writer.wait_closed()
    await asyncio.sleep(0.2)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not [r for r in caplog.records if r.exc_info]
    assert 'outcome="refused_503"' not in bot.metrics.render(None)[0].decode()
