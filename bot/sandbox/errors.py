"""Exceptions of the sandbox itself (not of the bot it talks to).

The sandbox plays Meta, so most of its "errors" are answers it gives on purpose: a
:class:`GraphError` carries the HTTP status and the Graph error envelope the Cloud API would
send. The other classes are for people driving the sandbox (bad driver request, sandbox not
running), so the CLI can print something a user can act on::

    EmpfangError
    └── SandboxError
        ├── GraphError               an answer in the Graph error envelope (4xx)
        ├── DriverRequestError       a driver API request the sandbox cannot act on (400)
        ├── MediaUrlError            a media download URL that is unknown or expired (404)
        └── SandboxClientError       the client got an error answer from the sandbox
            └── SandboxUnavailable   the sandbox could not be reached at all
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from bot.errors import EmpfangError


class SandboxError(EmpfangError):
    """Root of the sandbox's own exceptions."""


def fbtrace_id() -> str:
    """A random id in the style Graph puts on every error (opaque, 27 url-safe chars)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")[:27]


class GraphError(SandboxError):
    """A Graph API error answer: HTTP status, ``error`` envelope, optional extra headers.

    Built by the helpers in :mod:`bot.sandbox.graph` so codes, titles and ``(#code) Title``
    messages stay the same everywhere.
    """

    def __init__(
        self,
        http_status: int,
        code: int,
        message: str,
        *,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        details: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.subcode = subcode
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body exactly as Graph shapes it (``error_data`` only when there are details)."""
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        }
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}


class DriverRequestError(SandboxError):
    """A driver API request is malformed; the message says which field and why."""


class MediaUrlError(SandboxError):
    """A media download URL is unknown, tampered with or older than five minutes."""


class SandboxClientError(SandboxError):
    """The sandbox answered a client request with an error status."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SandboxUnavailable(SandboxClientError):
    """Nothing answered at the sandbox URL (not started, wrong host or port)."""
