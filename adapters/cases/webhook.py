"""Webhook sink: each transfer is an HMAC-signed JSON POST (schema: README "Case systems").

``X-Empfang-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`` lets the receiver check
the body came from us; ``Idempotency-Key`` is the transfer id, identical on every retry, so a
receiver that stores it can drop a repeat (e.g. after a 500 that had in fact been processed).
The body is the same bytes on every retry, too. A receiver may answer with a JSON object
holding ``case_id``; it is then linked to the conversation and shown by ``!case``.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

from adapters.cases.base import SendingSink
from adapters.cases.http import request
from bot.cases.document import as_json
from bot.cases.model import CaseRef, Transfer
from bot.config.cases import WebhookSinkSection

SIGNATURE_HEADER = "X-Empfang-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookSink(SendingSink):
    def __init__(
        self, settings: WebhookSinkSection, *, client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self._secret = settings.secret.get_secret_value().encode()
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, ref: CaseRef, transfer: Transfer) -> CaseRef:
        body = as_json(transfer, sink=self.settings.name, case_id=ref.case_id)
        response = await request(
            self._client,
            "POST",
            self.settings.url,
            what=f"webhook {self.settings.name!r} {transfer.event}",
            content=body,
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self._secret, body),
                IDEMPOTENCY_HEADER: transfer.transfer_id,
                "User-Agent": "Empfang case transfer",
            },
        )
        case_id = _case_id(response)
        if case_id is None or case_id == ref.case_id:
            return ref
        return ref.model_copy(update={"case_id": case_id, "label": case_id})


def _case_id(response: httpx.Response) -> str | None:
    """The receiver's case id, if it answered ``{"case_id": …}``; anything else is ignored."""
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("case_id") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value) or None
