"""A local fake of the Zammad REST endpoints Empfang uses, speaking Zammad's wire format.

Endpoints: ``POST /api/v1/tickets`` (with ``article`` and a ``customer`` object that is found
by e-mail or created), ``POST /api/v1/ticket_articles``, ``PUT /api/v1/tickets/{id}``.
Behaviour follows Zammad's controllers (``tickets_controller.rb``,
``application_controller/authenticates.rb`` and ``handles_errors.rb``):

* no credentials → 403 ``{"error": "Authentication required", …}``; an unknown token → 401
  ``{"error": "Can't find User for Token", …}`` with the ``X-Failure`` header;
* errors are ``{"error": …, "error_human": …}`` (both the same human text), 422 for
  validation and unknown lookup names, 404 ``Couldn't find Ticket with 'id'=…``;
* created records answer 201 with their attributes (``id``, ``number``, ``*_id`` fields);
* an article's ``attachments`` (``filename``, base64 ``data``, ``mime-type``) are decoded and
  kept in ``files``; a missing ``mime-type`` or bad base64 is a 422 naming the index.

Everything received is kept in ``requests`` for assertions; ``fail_next`` makes the next
calls answer 5xx (or anything) to simulate an outage.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

GROUPS = {"Users": 1, "Support": 2}
STATES = {"new": 1, "open": 2, "pending reminder": 3, "closed": 4}
ARTICLE_TYPES = {"email": 1, "phone": 5, "note": 10, "web": 11}


@dataclass
class Received:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str
    content: bytes


def _attachments(value: Any) -> list[Attachment] | str:
    """An article's ``attachments`` as Zammad's ``Ticket::Article`` takes them (``filename``,
    base64 ``data``, ``mime-type``), or Zammad's 422 text for a malformed one."""
    if value is None:
        return []
    if not isinstance(value, list):
        return "attachments must be an array"
    found = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict) or not entry.get("mime-type"):
            return f"Attachment needs 'mime-type' param for attachment with index '{index}'"
        try:
            content = base64.b64decode(str(entry.get("data") or ""), validate=True)
        except (binascii.Error, ValueError):
            return f"Invalid base64 for attachment with index '{index}'"
        found.append(Attachment(str(entry.get("filename") or "file"), entry["mime-type"], content))
    return found


@dataclass
class FakeZammad:
    token: str = "zammad-test-token"
    requests: list[Received] = field(default_factory=list)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    articles: dict[int, dict[str, Any]] = field(default_factory=dict)
    files: dict[int, list[Attachment]] = field(default_factory=dict)
    """Each article's attachments, decoded."""
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    failures: list[tuple[int, str | None]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    url: str = ""

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeZammad:
        app = web.Application()
        app.router.add_post("/api/v1/tickets", self._create_ticket)
        app.router.add_post("/api/v1/ticket_articles", self._create_article)
        app.router.add_put("/api/v1/tickets/{id}", self._update_ticket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, status: int = 503, times: int = 1, method: str | None = None) -> None:
        """Answer the next ``times`` requests (of ``method`` only, if given) with ``status``."""
        self.failures.extend([(status, method)] * times)

    def add_ticket(self, title: str = "Existing ticket") -> int:
        """A ticket created by someone else (for ``!case <id>``)."""
        ticket_id = next(self._ids)
        self.tickets[ticket_id] = self._ticket(ticket_id, title, GROUPS["Users"], 0)
        return ticket_id

    # -- helpers -----------------------------------------------------------------------------

    def notes(self, ticket_id: int) -> list[dict[str, Any]]:
        return [a for a in self.articles.values() if a["ticket_id"] == ticket_id]

    @staticmethod
    def _error(status: int, text: str, **headers: str) -> web.Response:
        return web.json_response(
            {"error": text, "error_human": text}, status=status, headers=headers
        )

    async def _begin(self, request: web.Request) -> tuple[Any, web.Response | None]:
        """Record the request; then fail it if told to, or if authentication fails."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        authorization = request.headers.get("Authorization")
        self.requests.append(Received(request.method, request.path, authorization, body))
        if self.failures and self.failures[0][1] in (None, request.method):
            status, _ = self.failures.pop(0)
            return body, self._error(status, "Error ID Xy12_z: Please contact your administrator.")
        if authorization is None:
            return body, self._error(403, "Authentication required")
        if authorization != f"Token token={self.token}":
            failure = "Can't find User for Token"
            return body, self._error(401, failure, **{"X-Failure": failure})
        if not isinstance(body, dict):
            return body, self._error(422, "Need at least article: body")
        return body, None

    def _ticket(
        self, ticket_id: int, title: str, group_id: int, customer_id: int
    ) -> dict[str, Any]:
        return {
            "id": ticket_id,
            "number": str(31000 + ticket_id),
            "title": title,
            "group_id": group_id,
            "state_id": STATES["new"],
            "priority_id": 2,
            "customer_id": customer_id,
            "article_ids": [],
        }

    def _customer(self, data: Any) -> int | web.Response:
        if not isinstance(data, dict) or not data.get("email"):
            return self._error(422, "Attribute 'customer_id' required!")
        email = str(data["email"]).lower()
        for user_id, user in self.users.items():
            if user["email"] == email:
                return user_id
        user_id = 1000 + len(self.users)
        self.users[user_id] = {**data, "id": user_id, "email": email, "role": "Customer"}
        return user_id

    def _article(self, ticket_id: int, data: Any) -> dict[str, Any] | web.Response:
        if not isinstance(data, dict) or not data.get("body"):
            return self._error(422, "Need at least article: body")
        kind = str(data.get("type") or "note")
        if kind not in ARTICLE_TYPES:
            return self._error(422, f"No lookup value found for 'type': {kind!r}")
        files = _attachments(data.get("attachments"))
        if isinstance(files, str):
            return self._error(422, files)
        article_id = 5000 + len(self.articles)
        self.files[article_id] = files
        article = {
            "id": article_id,
            "ticket_id": ticket_id,
            "type_id": ARTICLE_TYPES[kind],
            "type": kind,
            "internal": bool(data.get("internal", False)),
            "subject": data.get("subject"),
            "body": data["body"],
            "content_type": data.get("content_type", "text/plain"),
            "sender": "Agent",
            "attachments": [
                {
                    "id": 9000 + index,
                    "filename": file.filename,
                    "size": str(len(file.content)),
                    "preferences": {"Mime-Type": file.mime_type},
                }
                for index, file in enumerate(files)
            ],
        }
        self.articles[article_id] = article
        self.tickets[ticket_id]["article_ids"].append(article_id)
        return article

    # -- endpoints ---------------------------------------------------------------------------

    async def _create_ticket(self, request: web.Request) -> web.Response:
        body, refused = await self._begin(request)
        if refused is not None:
            return refused
        if not body.get("title"):
            return self._error(422, "Title can't be blank")
        group = body.get("group")
        if group not in GROUPS:
            return self._error(422, f"No lookup value found for 'group': {group!r}")
        customer_id = self._customer(body.get("customer"))
        if isinstance(customer_id, web.Response):
            return customer_id
        ticket_id = next(self._ids)
        self.tickets[ticket_id] = self._ticket(ticket_id, body["title"], GROUPS[group], customer_id)
        if "article" in body:
            article = self._article(ticket_id, body["article"])
            if isinstance(article, web.Response):
                del self.tickets[ticket_id]  # Zammad creates both in one transaction
                return article
        return web.json_response(self.tickets[ticket_id], status=201)

    async def _create_article(self, request: web.Request) -> web.Response:
        body, refused = await self._begin(request)
        if refused is not None:
            return refused
        ticket_id = body.get("ticket_id")
        if ticket_id not in self.tickets:
            return self._error(404, f"Couldn't find Ticket with 'id'={ticket_id}")
        article = self._article(ticket_id, body)
        if isinstance(article, web.Response):
            return article
        return web.json_response(article, status=201)

    async def _update_ticket(self, request: web.Request) -> web.Response:
        body, refused = await self._begin(request)
        if refused is not None:
            return refused
        ticket_id = int(request.match_info["id"])
        if ticket_id not in self.tickets:
            return self._error(404, f"Couldn't find Ticket with 'id'={ticket_id}")
        state = body.get("state")
        if state is not None:
            if state not in STATES:
                return self._error(422, f"No lookup value found for 'state': {state!r}")
            self.tickets[ticket_id]["state_id"] = STATES[state]
        return web.json_response(self.tickets[ticket_id], status=200)
