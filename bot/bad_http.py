"""Requests the HTTP parser refuses: answered and logged by their kind, quoting none of them.

aiohttp answers a request its parser refuses (a wrong chunk size, a control character in a
header, a line over 8190 bytes, bytes after ``Connection: close`` …) with 400 and the parser's
message, and logs that message at ERROR with a traceback, for every such request. The message
quotes the offending bytes: the request line, a header, up to a whole chunk of the body. They
are unverified, anyone can send them, a customer's number among them, and the log's number mask
cannot see a number whose separators ``repr`` has turned into escapes (a soft hyphen becomes
``\\xc2\\xad``); a 60 KB upload put 120 KB into the log.

Here the answer is ``bad HTTP request: <kind>``, the kind taken from a fixed list, and the log
has at most one line per kind a minute, with a count; nothing of the request in either.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
)

log = logging.getLogger("empfang.web")

LOG_INTERVAL_SECONDS = 60.0

MALFORMED = "malformed request"
"""The kind of a refusal none of the rules below name."""

_KIND_BY_CLASS: tuple[tuple[type[HttpProcessingError], str], ...] = (
    (LineTooLong, "line too long"),
    (BadHttpMethod, "invalid method"),  # before BadStatusLine, which it extends
    (BadStatusLine, "invalid request line"),
    (InvalidURLError, "invalid URL"),
    (InvalidHeader, "invalid header"),
)

_KIND_BY_REASON: tuple[tuple[str, str], ...] = (
    ("chunk", "invalid chunked body"),
    ("transfer-encoding", "invalid Transfer-Encoding"),
    ("content-length", "invalid Content-Length"),
    ("connection: close", "data after Connection: close"),
    ("too many headers", "too many headers"),
    ("header", "invalid header"),
    ("url", "invalid URL"),
)
"""Keywords of the reason that leads the parser's message: llhttp's fixed text (``Expected LF
after chunk data``, ``Duplicate Content-Length`` …). The keywords only choose among the fixed
kinds, so request bytes after the reason can steer the choice but never reach an answer."""

TLS_ON_PLAIN_PORT = "TLS sent to the plain HTTP port"
"""A TLS handshake where a request line should be: a client (or a proxy) speaking https to
the bot, which speaks plain HTTP behind its TLS-terminating proxy."""


def fault_kind(exc: HttpProcessingError) -> str:
    """The refusal's kind: a few words from a fixed list, naming what was wrong."""
    reason = exc.message.partition("\n")[0].lower()
    if isinstance(exc, BadHttpMethod) and reason.startswith("received https traffic"):
        return TLS_ON_PLAIN_PORT
    for cls, kind in _KIND_BY_CLASS:
        if isinstance(exc, cls):
            return kind
    for keyword, kind in _KIND_BY_REASON:
        if keyword in reason:
            return kind
    return MALFORMED


class RefusalLog:
    """Counts refused requests by kind and logs each kind at most once an interval, so a
    flood of them costs the log a line a minute per kind, not one per request (anyone can
    send them; the metrics count every one)."""

    def __init__(
        self, subject: str = "bad HTTP request", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._subject = subject
        self._clock = clock
        self.counts: Counter[str] = Counter()
        self._logged_at: dict[str, float] = {}

    def refused(self, status: int, kind: str) -> None:
        """``kind`` is logged: a fixed text, or one made safe for a log line."""
        key = f"{status} {kind}"
        self.counts[key] += 1
        now = self._clock()
        logged_at = self._logged_at.get(key)
        if logged_at is None or now - logged_at >= LOG_INTERVAL_SECONDS:
            self._logged_at[key] = now
            log.warning(
                "%s refused with %d: %s (%d of this kind so far; logged once a minute per kind)",
                self._subject,
                status,
                kind,
                self.counts[key],
            )


class QuietRequestHandler(web.RequestHandler):
    """aiohttp's connection protocol, answering a request its parser refused by the kind of
    fault alone; every other error is aiohttp's to answer, as before."""

    __slots__ = ("_bad_requests",)

    def __init__(self, manager: web.Server, *, bad_requests: RefusalLog, **options: Any):
        super().__init__(manager, **options)
        self._bad_requests = bad_requests

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        kind = fault_kind(exc)
        self._bad_requests.refused(status, kind)
        response = web.Response(status=status, text=f"bad HTTP request: {kind}")
        response.force_close()
        return response


EXPECTATION_REFUSED = "only Expect: 100-continue is understood"


async def unquoted_expectation(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """``on_response_prepare``: aiohttp refuses an ``Expect`` other than ``100-continue``
    before any middleware with ``417 Unknown Expect: <the header>``, up to 8 KB of it,
    unverified; the answer keeps its status and loses the quote."""
    if response.status == 417 and isinstance(response, web.Response):
        response.text = EXPECTATION_REFUSED
