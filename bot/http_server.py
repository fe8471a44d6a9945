"""The bot's HTTP server: aiohttp's, with the limits aiohttp lacks.

Webhook endpoints are reachable by anyone, before any signature is checked. aiohttp closes
idle keep-alive connections (``keepalive_timeout``) but gives a new connection unlimited
time for its headers, a request unlimited time for its body, and takes connections until
the process runs out of descriptors, when every legitimate request fails too. Here:

* a connection that has not sent a request's headers within ``header_timeout_seconds`` is
  closed; between requests aiohttp's keep-alive timeout applies (``keepalive_timeout_seconds``),
  which also ends a trickled second request;
* a body not received within ``body_timeout_seconds`` is answered 408 and the connection closed;
* beyond ``max_connections`` open connections a new one is closed at once, and the episode
  is logged once when it starts and once when it ends, not once per connection;
* a compressed body is refused with 415 before it is read (Meta and Slack send none): any
  coding in any ``Content-Encoding`` or ``Transfer-Encoding`` header but ``identity`` and
  ``chunked``; aiohttp is told not to decompress bodies at all, so nobody can make the bot
  unpack one;
* a request aiohttp's parser refuses is answered and logged by its kind, not with its bytes
  (:mod:`bot.bad_http`);
* should accepting fail anyway for want of descriptors, that is logged once a minute with a
  count instead of once per attempt with a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from bot.bad_http import QuietRequestHandler, RefusalLog
from bot.config import ServerSection

log = logging.getLogger("empfang.web")

LINGER_SECONDS = 2.0
"""How long the rest of a refused request's body is read and dropped before closing."""


class ConnectionGuard:
    """Counts connections, caps them, and closes those whose headers take too long."""

    def __init__(self, *, max_connections: int, header_timeout: float) -> None:
        self._max = max_connections
        self._header_timeout = header_timeout
        self._waiting: dict[asyncio.BaseTransport, asyncio.TimerHandle | None] = {}
        self.refused = 0
        self._refused_in_episode = 0

    @property
    def open(self) -> int:
        return len(self._waiting)

    def protocol_factory(self, inner: Callable[[], asyncio.Protocol]) -> Callable[[], Any]:
        return lambda: _GuardedProtocol(inner(), self)

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        if len(self._waiting) >= self._max:
            self.refused += 1
            self._refused_in_episode += 1
            if self._refused_in_episode == 1:
                log.warning(
                    "connection limit reached (%d open): refusing new connections", self._max
                )
            return False
        loop = asyncio.get_running_loop()
        self._waiting[transport] = loop.call_later(self._header_timeout, _cut, transport)
        return True

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        """The headers are in: from now on the body timeout and keep-alive apply."""
        timer = self._waiting.get(transport) if transport is not None else None
        if timer is not None:
            timer.cancel()
            self._waiting[transport] = None  # type: ignore[index]

    def release(self, transport: asyncio.BaseTransport) -> None:
        timer = self._waiting.pop(transport, None)
        if timer is not None:
            timer.cancel()
        if self._refused_in_episode and len(self._waiting) < self._max:
            log.warning(
                "connection limit: accepting again; %d connections were refused",
                self._refused_in_episode,
            )
            self._refused_in_episode = 0


def _cut(transport: asyncio.BaseTransport) -> None:
    transport.abort()  # type: ignore[attr-defined]


class _GuardedProtocol(asyncio.Protocol):
    """aiohttp's protocol, admitted and timed by the guard; everything else passes through."""

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self._inner = inner
        self._guard = guard
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._guard.admit(transport):
            transport.abort()  # type: ignore[attr-defined]
            return
        self._transport = transport
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is None:
            return
        self._guard.release(self._transport)
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class GuardedSite(web.TCPSite):
    """aiohttp's TCP site serving connections with ``handler``, wrapped by the guard."""

    def __init__(
        self,
        runner: web.AppRunner,
        host: str,
        port: int,
        guard: ConnectionGuard,
        handler: Callable[[], asyncio.Protocol],
    ) -> None:
        super().__init__(runner, host, port)
        self._guard = guard
        self._handler = handler

    async def start(self) -> None:
        await web.BaseSite.start(self)
        self._server = await asyncio.get_running_loop().create_server(
            self._guard.protocol_factory(self._handler), self._host, self._port, reuse_address=True
        )

    @property
    def port(self) -> int:
        sockets = self._server.sockets if isinstance(self._server, asyncio.Server) else ()
        return int(sockets[0].getsockname()[1]) if sockets else 0


def limits_middleware(guard: ConnectionGuard, body_timeout: float) -> Any:
    """Refuses compressed bodies and reads every body within ``body_timeout``, before any
    handler runs; handlers then get the body from aiohttp's cache."""

    @web.middleware
    async def limits(request: web.Request, handler: Handler) -> web.StreamResponse:
        guard.request_started(request.transport)
        if _encoded(request):
            return _refused(415, "compressed request bodies are not accepted")
        if (request.content_length or 0) > request.client_max_size:
            return _too_large(request)
        if request.body_exists:
            # A webhook's body has nearly always arrived with its headers: then there is
            # no wait to bound, and no timer to set and cancel for every request.
            waits = not request.content.is_eof()
            try:
                async with asyncio.timeout(body_timeout if waits else None):
                    await request.read()
            except TimeoutError:
                return _refused(408, f"body not received within {body_timeout:g} seconds")
            except web.HTTPRequestEntityTooLarge:
                return _too_large(request)
            except ConnectionResetError:
                # The client hung up inside its body: no one to answer, nothing to log (an
                # unverified client's doing), and no 503 counted against the store.
                return _refused(400, "connection closed before the body was complete")
        return await handler(request)

    return limits


def _encoded(request: web.Request) -> bool:
    """Whether the body comes in a coding: any ``Content-Encoding`` or ``Transfer-Encoding``
    header, each token of its comma-separated list, naming one. Only ``identity`` (HTTP's "no
    coding"), ``chunked`` (aiohttp's framing) and empty list elements name none. Checking the
    first header alone let ``identity`` then ``gzip`` in, and aiohttp reads ``gzip, chunked``
    as chunked alone, handing the handler the coded bytes."""
    return any(
        token.strip().lower() not in plain
        for name, plain in _NO_CODING
        for value in request.headers.getall(name, ())
        for token in value.split(",")
    )


_NO_CODING = (
    (hdrs.CONTENT_ENCODING, frozenset({"", "identity"})),
    (hdrs.TRANSFER_ENCODING, frozenset({"", "chunked"})),
)


def _too_large(request: web.Request) -> web.Response:
    return _refused(413, f"body larger than {request.client_max_size} bytes")


def _refused(status: int, reason: str) -> web.Response:
    """Answered before the request was read: the connection is not kept."""
    response = web.Response(status=status, text=reason)
    response.force_close()
    return response


ACCEPT_FAILED = "socket.accept() out of system resource"
"""What asyncio reports, with a traceback, each time accepting fails for want of descriptors."""
ACCEPT_LOG_INTERVAL_SECONDS = 60.0


class AcceptErrors:
    """The loop's exception handler while the server runs: a failed accept (out of file
    descriptors) is logged once a minute with a count, not once per attempt; everything
    else goes to the handler that was there before."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._previous = loop.get_exception_handler()
        self.count = 0
        self._logged_at: float | None = None
        loop.set_exception_handler(self)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_FAILED:
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        self.count += 1
        now = loop.time()
        if self._logged_at is None or now - self._logged_at >= ACCEPT_LOG_INTERVAL_SECONDS:
            self._logged_at = now
            log.error(
                "cannot accept connections: %s (%d failed so far; logged once a minute)",
                context.get("exception"),
                self.count,
            )

    def remove(self) -> None:
        self._loop.set_exception_handler(self._previous)


class HttpServer:
    """Runs an aiohttp application on ``[server]`` with the limits above."""

    def __init__(self, settings: ServerSection) -> None:
        self._settings = settings
        self.guard = ConnectionGuard(
            max_connections=settings.max_connections,
            header_timeout=settings.header_timeout_seconds,
        )
        self._runner: web.AppRunner | None = None
        self.accept_errors: AcceptErrors | None = None
        self.bad_requests = RefusalLog()
        self.port = 0

    def middleware(self) -> Any:
        return limits_middleware(self.guard, self._settings.body_timeout_seconds)

    async def start(self, app: web.Application) -> None:
        _check_descriptors(self._settings.max_connections)
        options: dict[str, Any] = {
            "access_log": None,
            "keepalive_timeout": self._settings.keepalive_timeout_seconds,
            "lingering_time": LINGER_SECONDS,
            "auto_decompress": False,
        }
        self._runner = web.AppRunner(app, handle_signals=False, **options)
        await self._runner.setup()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()

        def handler() -> QuietRequestHandler:
            """What aiohttp's server would make per connection (``web.Server.__call__``),
            with the same options, but the subclass that answers parser refusals."""
            return QuietRequestHandler(server, bad_requests=self.bad_requests, loop=loop, **options)

        site = GuardedSite(
            self._runner, self._settings.host, self._settings.port, self.guard, handler
        )
        await site.start()
        self.port = site.port
        self.accept_errors = AcceptErrors(asyncio.get_running_loop())

    async def stop(self) -> None:
        if self.accept_errors is not None:
            self.accept_errors.remove()
            self.accept_errors = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def _check_descriptors(max_connections: int, reserve: int = 64) -> None:
    """The cap only helps below the open-file limit: at the limit every accept fails, for
    legitimate requests too, and asyncio logs each failure."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and max_connections + reserve > soft:
        log.warning(
            "server.max_connections (%d) leaves fewer than %d of the %d open files this"
            " process may have for the store and outgoing connections; raise `ulimit -n`"
            " or lower server.max_connections",
            max_connections,
            reserve,
            soft,
        )
