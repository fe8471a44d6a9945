"""``SandboxClient``: the driver API over HTTP, for the CLI, the demo and out-of-process tests.

Methods mirror :class:`~bot.sandbox.core.Sandbox`'s driver side one to one, so a test can
switch between an in-process sandbox and one in another process without rewriting. Errors
arrive as :class:`~bot.sandbox.errors.SandboxClientError` with the sandbox's own explanation;
an unreachable sandbox is :class:`~bot.sandbox.errors.SandboxUnavailable`.
"""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from bot.media.limits import media_class
from bot.sandbox.delivery import tls_context
from bot.sandbox.errors import SandboxClientError, SandboxUnavailable

JSON = dict[str, Any]


class SandboxClient:
    """Drives a running sandbox at ``base_url`` (``http://host:port``, no version)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, transport=transport, verify=tls_context()
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _call(self, method: str, path: str, body: JSON | None = None, **kw: Any) -> JSON:
        try:
            response = await self._http.request(method, path, json=body, **kw)
        except httpx.TransportError as exc:
            raise SandboxUnavailable(
                f"no sandbox answers at {self.base_url} ({type(exc).__name__}); "
                "is `empfang sandbox` running?"
            ) from exc
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400:
            detail = data.get("error") if isinstance(data, dict) else response.text
            raise SandboxClientError(
                f"sandbox refused {method} {path}: {detail}", status=response.status_code
            )
        if not isinstance(data, dict):
            raise SandboxClientError(f"sandbox answered {method} {path} with non-JSON")
        return data

    # -- the customer's phone ---------------------------------------------------------------

    async def send_message(self, spec: JSON) -> str:
        """Any customer message in driver shape (see ``POST /sandbox/messages``); its wamid."""
        return str((await self._call("POST", "/sandbox/messages", spec))["id"])

    async def say(
        self,
        sender: str,
        text: str,
        *,
        name: str | None = None,
        reply_to: str | None = None,
        to: str | None = None,
    ) -> str:
        """A text to the first business number, or to ``to`` (a ``phone_number_id`` or a
        Twilio sender ``whatsapp:+…``)."""
        spec: JSON = {"from": sender, "type": "text", "text": text}
        if to is not None:
            spec["to"] = to
        if name is not None:
            spec["name"] = name
        if reply_to is not None:
            spec["reply_to"] = reply_to
        return await self.send_message(spec)

    async def tap(self, number: str, title: str) -> str:
        """The customer taps the reply button ``title``; the wamid of their answer."""
        answer = await self._call("POST", "/sandbox/tap", {"number": number, "title": title})
        return str(answer["id"])

    async def business_app_send(self, number: str, text: str) -> str:
        """The business writes from the WhatsApp Business app on the same number."""
        body = {"number": number, "text": text}
        return str((await self._call("POST", "/sandbox/business-app", body))["id"])

    async def send_file(
        self,
        sender: str,
        path: Path,
        *,
        caption: str | None = None,
        name: str | None = None,
        mime_type: str | None = None,
    ) -> str:
        """The customer sends the file at ``path``: it goes onto the phone (``POST
        /sandbox/media``), then out as the message its type makes it; returns the wamid."""
        mime = mime_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        stored = await self._call(
            "POST",
            "/sandbox/media",
            content=await asyncio.to_thread(path.read_bytes),
            headers={"Content-Type": mime},
            params={"filename": path.name},
        )
        kind = media_class(mime)  # WebP a sticker, else a picture, audio, video, document
        spec: JSON = {"from": sender, "type": kind, "media_id": stored["media_id"]}
        if caption is not None and kind in ("image", "video", "document"):
            spec["caption"] = caption
        if kind == "audio":
            spec["voice"] = False
        if name is not None:
            spec["name"] = name
        return await self.send_message(spec)

    async def post_webhook(self, payload: JSON) -> None:
        """Deliver an arbitrary webhook body to the bot, signed, as-is."""
        await self._call("POST", "/sandbox/webhooks", payload)

    # Numbers travel in bodies, never in URLs: httpx logs every request URL at INFO.

    async def inbox(self, number: str, business: str | None = None) -> JSON:
        """What the business (the first number, or ``business``) sent to ``number``, with
        status timelines."""
        body: JSON = {"number": number}
        if business is not None:
            body["business"] = business
        return await self._call("POST", "/sandbox/inbox", body)

    async def read(self, number: str) -> list[str]:
        answer = await self._call("POST", "/sandbox/read", {"number": number})
        return [str(wamid) for wamid in answer["read"]]

    async def set_unreachable(self, number: str, unreachable: bool = True) -> None:
        body = {"number": number, "unreachable": unreachable}
        await self._call("POST", "/sandbox/unreachable", body)

    # -- controls ---------------------------------------------------------------------------

    async def info(self) -> JSON:
        return await self._call("GET", "/sandbox")

    async def advance_clock(self, seconds: float) -> float:
        return float(
            (await self._call("POST", "/sandbox/clock", {"advance_seconds": seconds}))["now"]
        )

    async def deliveries(self) -> list[JSON]:
        return list((await self._call("GET", "/sandbox/deliveries"))["deliveries"])

    async def configure(self, **changes: Any) -> JSON:
        return await self._call("POST", "/sandbox/config", changes)

    async def verify_webhook(
        self, *, verify_token: str | None = None, challenge: str | None = None
    ) -> JSON:
        """Have the sandbox make Meta's GET handshake against the bot; its report."""
        body = {"verify_token": verify_token, "challenge": challenge}
        return await self._call("POST", "/sandbox/verify", body)

    async def idle(self, max_wait: float = 30.0) -> bool:
        """Wait until the sandbox has no pending deliveries; False if ``max_wait`` passed."""
        answer = await self._call(
            "POST", "/sandbox/idle", {"timeout": max_wait}, timeout=max_wait + 5.0
        )
        return bool(answer["idle"])

    async def reset(self) -> None:
        await self._call("POST", "/sandbox/reset")
