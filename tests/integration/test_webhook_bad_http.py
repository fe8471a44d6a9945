"""Requests the HTTP parser refuses, and bodies in a coding, over raw sockets to the real bot.

A refused request is unverified: nothing of it may come back in the answer or go into the log
but its kind. Each request below carries a test customer's number where the parser quoted it
before (the body of a chunk, a header line, the URL …); the session's log scan
(``tests/conftest.py``) fails the run should the number reach any log line.
"""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from adapters.whatsapp.signature import sign
from bot.app import Empfang
from tests.integration.test_webhook_http import rows
from tests.numbers import CUSTOMER
from tests.whatsapp_fixtures import MESSAGES, body, envelope

SECRET = b"sandbox-app-secret"
NUMBER = CUSTOMER.encode()
SPLIT = "\u00ad".join([CUSTOMER[:4], CUSTOMER[4:10], CUSTOMER[10:]]).encode()
"""The number split by soft hyphens: ``repr`` made ``\\xc2\\xad`` of them, and the log's
number mask saw three short digit runs."""
CHUNK = b'{"text":"call me +' + NUMBER + b'"}'
POST = b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\n"
CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"

BAD = {
    "chunk size too small": (
        CHUNKED + b"%x\r\n" % (len(CHUNK) - 3) + CHUNK + b"\r\n0\r\n\r\n",
        "invalid chunked body",
    ),
    "soft hyphens in a chunk": (
        CHUNKED + b"%x\r\n" % (len(SPLIT) - 2) + SPLIT + b"\r\n0\r\n\r\n",
        "invalid chunked body",
    ),
    "chunk size not hex": (CHUNKED + b"+" + NUMBER + b"\r\n", "invalid chunked body"),
    "control character in a header": (
        POST + b"X-Caller: +" + NUMBER + b"\x01\r\nContent-Length: 0\r\n\r\n",
        "invalid header",
    ),
    "header without a colon": (POST + NUMBER + b"\r\n\r\n", "invalid header"),
    "DEL in the URL query": (
        b"GET /webhooks/whatsapp?hub.challenge=" + NUMBER + b"\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
        "invalid URL",
    ),
    "URL over 8190 bytes": (
        b"GET /webhooks/whatsapp?x=" + NUMBER * 700 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        "line too long",
    ),
    "header over 8190 bytes": (POST + b"X-A: " + NUMBER * 700 + b"\r\n\r\n", "line too long"),
    "too many headers": (
        POST + b"".join(b"X-%d: %s\r\n" % (i, NUMBER) for i in range(200)) + b"\r\n",
        "too many headers",
    ),
    "data after Connection: close": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        b"GET /" + NUMBER + b" HTTP/1.1\r\n\r\n",
        "data after Connection: close",
    ),
    "Content-Length not a number": (
        POST + b"Content-Length: " + NUMBER + b"x\r\n\r\n",
        "invalid Content-Length",
    ),
    "Transfer-Encoding with Content-Length": (
        POST + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "invalid Transfer-Encoding",
    ),
    "bad HTTP version": (
        b"GET /" + NUMBER + b" HTTP/9.1\r\nHost: x\r\n\r\n",
        "invalid request line",
    ),
    "bad method": (b"G\x01T /" + NUMBER + b" HTTP/1.1\r\nHost: x\r\n\r\n", "invalid method"),
    "TLS on the plain port": (
        b"\x16\x03\x01\x02\x00\x01" + NUMBER,
        "TLS sent to the plain HTTP port",
    ),
}

REFUSED_LINE = re.compile(
    r"bad HTTP request refused with 400: [A-Za-z :-]+ "
    r"\(\d+ of this kind so far; logged once a minute per kind\)"
)


async def exchange(bot: Empfang, request: bytes) -> bytes:
    """Sends ``request`` whole and returns everything the bot sent until it closed."""
    assert bot.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
    writer.write(request)
    try:
        async with asyncio.timeout(10):
            return await reader.read()
    finally:
        writer.close()


def split(answer: bytes) -> tuple[bytes, bytes]:
    """The last answer's status line and body."""
    head, _, content = answer.rpartition(b"HTTP/1.")[2].partition(b"\r\n\r\n")
    return b"HTTP/1." + head.split(b"\r\n")[0], content


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every line logged from aiohttp or the bot's web server, with its traceback if any."""
    formatter = logging.Formatter("%(name)s %(message)s")
    return [
        formatter.format(r) for r in caplog.records if r.name.startswith(("aiohttp", "empfang.web"))
    ]


@pytest.mark.parametrize("case", list(BAD))
async def test_a_request_the_parser_refuses_is_answered_and_logged_by_its_kind_alone(
    bot: Empfang, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    """Defects 3 and 4: aiohttp quoted the request's bytes in its 400 answer and logged them
    with a traceback at ERROR, for every such request."""
    request, kind = BAD[case]
    status, content = split(await exchange(bot, request))
    assert status.split(b" ")[1] == b"400"
    assert content == f"bad HTTP request: {kind}".encode()
    lines = logged(caplog)
    assert len(lines) == 1, lines
    assert REFUSED_LINE.search(lines[0]) and f": {kind} (" in lines[0]
    assert not re.search(r"\d{4}|\\x|Traceback", lines[0])


async def test_a_flood_of_bad_requests_logs_one_line_per_kind(
    bot: Empfang, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 3: every bad request added a traceback and its bytes to the log (a 60 KB upload
    120 KB); now a kind is logged at most once a minute, whatever the size or the number."""
    big = b"x" * 60_000
    flood = CHUNKED + b"%x\r\n" % (len(big) - 3) + big + b"\r\n0\r\n\r\n"
    answers = [await exchange(bot, flood) for _ in range(30)]
    answers.append(await exchange(bot, BAD["control character in a header"][0]))
    assert all(split(a)[0].split(b" ")[1] == b"400" for a in answers)
    assert [line.split(": ", 1)[1] for line in logged(caplog)] == [
        "invalid chunked body (1 of this kind so far; logged once a minute per kind)",
        "invalid header (1 of this kind so far; logged once a minute per kind)",
    ]


def signed_post(raw: bytes, headers: list[str]) -> bytes:
    lines = [
        "POST /webhooks/whatsapp HTTP/1.1",
        "Host: x",
        "Connection: close",
        "Content-Type: application/json",
        f"Content-Length: {len(raw)}",
        f"X-Hub-Signature-256: {sign(SECRET, raw)}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + raw


@pytest.mark.parametrize(
    "headers",
    [
        ["Content-Encoding: identity", "Content-Encoding: gzip"],
        ["Content-Encoding: gzip", "Content-Encoding: identity"],
        ["Content-Encoding: identity, gzip"],
        ["Content-Encoding: identity,,br"],
        ["Content-Encoding: x-anything"],
    ],
)
async def test_every_content_encoding_header_and_token_is_checked(
    bot: Empfang, headers: list[str]
) -> None:
    """Defect 8: with two Content-Encoding headers, identity then gzip, only the first was
    checked and the body stored as it came."""
    raw = body(envelope(messages=[MESSAGES["text"]]))
    status, content = split(await exchange(bot, signed_post(raw, headers)))
    assert status.split(b" ")[1] == b"415"
    assert content == b"compressed request bodies are not accepted"
    assert rows(bot, "SELECT count(*) FROM messages") == [(0,)]


@pytest.mark.parametrize(
    "headers",
    [
        ["Content-Encoding: identity"],
        ["Content-Encoding: Identity , identity", "Content-Encoding: identity"],
    ],
)
async def test_identity_alone_is_no_coding_and_accepted(bot: Empfang, headers: list[str]) -> None:
    """``identity`` is HTTP's name for no coding at all: the body is what was signed."""
    raw = body(envelope(messages=[MESSAGES["text"]]))
    status, _ = split(await exchange(bot, signed_post(raw, headers)))
    assert status.split(b" ")[1] == b"200"
    assert rows(bot, "SELECT count(*) FROM messages") == [(1,)]


async def test_a_body_in_a_transfer_coding_is_refused_too(bot: Empfang) -> None:
    """aiohttp reads ``Transfer-Encoding: gzip, chunked`` as chunked alone and handed the
    still coded bytes on: 200 and stored, had they been the envelope."""
    raw = body(envelope(messages=[MESSAGES["text"]]))
    request = signed_post(raw, ["Transfer-Encoding: gzip, chunked"]).replace(
        f"Content-Length: {len(raw)}\r\n".encode(), b""
    )
    head, _, _ = request.partition(b"\r\n\r\n")
    request = head + b"\r\n\r\n" + b"%x\r\n" % len(raw) + raw + b"\r\n0\r\n\r\n"
    status, content = split(await exchange(bot, request))
    assert status.split(b" ")[1] == b"415"
    assert content == b"compressed request bodies are not accepted"
    assert rows(bot, "SELECT count(*) FROM messages") == [(0,)]


@pytest.mark.parametrize(
    "path", [b"/webhooks/whatsapp", b"/healthz", b"/metrics", b"/no/such/path"]
)
async def test_an_unknown_expectation_is_refused_without_quoting_it(
    bot: Empfang, path: bytes
) -> None:
    """aiohttp answered ``417 Unknown Expect: <the header>``, up to 8 KB of it, before any
    middleware or signature check (probe of 2026-12-02, D1)."""
    method = b"GET " if path != b"/webhooks/whatsapp" else b"POST "
    request = (
        method
        + path
        + b" HTTP/1.1\r\nHost: x\r\nExpect: +49 "
        + NUMBER
        + b"x" * 8000
        + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    status, content = split(await exchange(bot, request))
    assert status.split(b" ")[1] in (b"417", b"404")
    assert NUMBER not in content and b"xxxx" not in content and len(content) < 100


async def test_expect_100_continue_still_gets_its_interim_answer(bot: Empfang) -> None:
    request = POST + b"Expect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    answer = await exchange(bot, request)
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 ")


async def test_a_flood_of_unsigned_webhooks_logs_one_line_a_minute(
    bot: Empfang, caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone can send them: each added a WARNING line (probe of 2026-12-02); the metrics
    still count every one."""
    unsigned = POST + b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
    for _ in range(20):
        status, _ = split(await exchange(bot, unsigned))
        assert status.split(b" ")[1] == b"401"
    lines = [r.getMessage() for r in caplog.records if "webhook refused" in r.getMessage()]
    assert lines == [
        "webhook refused with 401: X-Hub-Signature-256 header missing"
        " (1 of this kind so far; logged once a minute per kind)"
    ]
    assert 'empfang_webhooks_total{outcome="refused_401"} 20.0' in (
        bot.metrics.render(None)[0].decode()
    )
