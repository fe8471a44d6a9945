"""A TCP forwarder in front of PostgreSQL whose link can be cut like a network: while cut,
bytes are held, not forwarded and not refused, and no connection is closed, so neither end
learns anything, exactly as with a partition. :meth:`mend` lets the held bytes through."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class Blackhole:
    def __init__(self, target_url: str) -> None:
        """In front of the server ``target_url`` names; :attr:`url` leads through it."""
        self._target = urlsplit(target_url)
        self._target_port = self._target.port
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return self._target._replace(netloc=f"postgres@127.0.0.1:{self.port}").geturl()

    def cut(self) -> None:
        self._open.clear()

    def mend(self) -> None:
        self._open.set()

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for pump in self._pumps:
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        await self._open.wait()  # a new connection during a cut gets no answer
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self._target_port)
        for reader, writer in ((client_r, server_w), (server_r, client_w)):
            pump = asyncio.create_task(self._pump(reader, writer))
            self._pumps.add(pump)
            pump.add_done_callback(self._pumps.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                await self._open.wait()
                writer.write(chunk)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            with contextlib.suppress(ConnectionError, RuntimeError):
                writer.close()
