"""Zammad sink over its REST API (``Authorization: Token token=…``).

The first transfer creates the ticket (``POST /api/v1/tickets`` with ``group``, ``title``,
``customer`` and the transfer as first article), every later one adds an internal note
(``POST /api/v1/ticket_articles``), and the conversation's close sets the ticket's state to
closed (``PUT /api/v1/tickets/{id}``). The customer is created or found by an e-mail address
made from the pseudonym (``k-…@customer_email_domain``), so one customer's tickets group
together without Zammad ever seeing the number, unless ``include_phone`` puts it in
``mobile``. With ``include_media`` the customer's files (stripped) are the article's
``attachments`` (``filename``, base64 ``data``, ``mime-type``). Zammad error bodies
(``{"error": …, "error_human": …}``) are quoted in errors.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from adapters.cases.http import request
from bot.cases.document import as_text, headline, title
from bot.cases.model import CaseRef, Transfer
from bot.config.cases import ZammadSinkSection
from bot.errors import CaseSinkError
from bot.texts import Texts


def _zammad_error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    text = body.get("error_human") or body.get("error")
    return str(text)[:200] if text else None


class ZammadSink:
    def __init__(
        self,
        settings: ZammadSinkSection,
        *,
        texts: Texts,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self._texts = texts
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_seconds)
        self._headers = {"Authorization": f"Token token={settings.token.get_secret_value()}"}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def open_case(self, transfer: Transfer) -> CaseRef:
        ticket = await self._call(
            "POST",
            "/api/v1/tickets",
            "create ticket",
            {
                "title": title(transfer, self._texts),
                "group": self.settings.group,
                "customer": self._customer(transfer),
                "article": self._note(transfer),
            },
        )
        try:
            return CaseRef(case_id=str(int(ticket["id"])), label=str(ticket.get("number") or ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise CaseSinkError("Zammad created a ticket without an id", retryable=False) from exc

    async def append(self, ref: CaseRef, transfer: Transfer) -> CaseRef:
        if ref.case_id is None:
            return await self.open_case(transfer)
        body = {"ticket_id": _ticket_id(ref), **self._note(transfer)}
        await self._call("POST", "/api/v1/ticket_articles", "add note", body)
        return ref

    async def close(self, ref: CaseRef) -> None:
        if ref.case_id is not None:
            path = f"/api/v1/tickets/{_ticket_id(ref)}"
            await self._call("PUT", path, "close ticket", {"state": "closed"})

    def _customer(self, transfer: Transfer) -> dict[str, str]:
        customer = {
            "email": f"{transfer.requester.lower()}@{self.settings.customer_email_domain}",
            "firstname": "WhatsApp",
            "lastname": transfer.requester,
        }
        if transfer.phone:
            customer["mobile"] = transfer.phone
        return customer

    def _note(self, transfer: Transfer) -> dict[str, Any]:
        note: dict[str, Any] = {
            "subject": headline(transfer.event, self._texts),
            "body": as_text(transfer, self._texts),
            "content_type": "text/plain",
            "type": "note",
            "internal": True,
        }
        if transfer.files:  # include_media: article attachments, base64 in the JSON body
            note["attachments"] = [
                {
                    "filename": file.name,
                    "data": base64.b64encode(file.read()).decode("ascii"),
                    "mime-type": file.mime_type,
                }
                for file in transfer.files
            ]
        return note

    async def _call(
        self, method: str, path: str, what: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        response = await request(
            self._client,
            method,
            self.settings.url + path,
            what=f"Zammad {self.settings.name!r} {what}",
            detail=_zammad_error,
            json=payload,
            headers=self._headers,
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise CaseSinkError(f"Zammad {what}: answer is not JSON", retryable=True) from exc
        return body if isinstance(body, dict) else {}


def _ticket_id(ref: CaseRef) -> int:
    try:
        return int(str(ref.case_id))
    except ValueError as exc:
        raise CaseSinkError(
            f"case id {ref.case_id!r} is not a Zammad ticket id (the number in its URL)",
            retryable=False,
        ) from exc
