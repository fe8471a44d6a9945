"""The Client-Server API calls the adapter makes, over aiohttp, answering plain JSON dicts.

Why not matrix-nio for these: ``import nio`` alone brings its crypto, HTTP/2 and jsonschema
stacks (~13 MiB of an idle bot that has no use for them without E2EE), and nio checks every
answer against a JSON schema and parses whole sync answers into objects, only for the
adapter to read the events' JSON back out of them (``bench/README.md``, relay overhead).
aiohttp is loaded by the webhook server anyway. With ``matrix.encryption`` on,
``adapters.matrix.e2ee`` runs the calls that need the crypto (sync, send, upload, history)
through nio and leaves the rest here.

Every failure raises ``PlatformError`` (``adapters.matrix.errors``): an error answer by its
status and ``errcode`` (``M_LIMIT_EXCEEDED`` with its ``retry_after_ms``), a connection
problem as retryable. Paths are built with every id quoted, so no room, event or
transaction id can change a request's shape.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import aiohttp

from adapters.matrix import errors
from bot.errors import PlatformError
from bot.ports import ChatFile

CLIENT = "/_matrix/client/v3"
CLIENT_V1 = "/_matrix/client/v1"
MEDIA_UPLOAD = "/_matrix/media/v3/upload"
REQUEST_TIMEOUT = 30.0
"""Seconds a single request may take (the long-poll sync gets its own, longer budget)."""
UPLOAD_TIMEOUT = 300.0
"""An upload of a large customer file over a slow link."""

Event = dict[str, Any]


def _q(value: str) -> str:
    return quote(value, safe="")


class MatrixApi:
    """One account's calls to one homeserver; ``access_token`` is set by the login
    (``adapters.matrix.session``)."""

    def __init__(
        self, homeserver: str, user_id: str, *, device_id: str = "", access_token: str = ""
    ) -> None:
        self.homeserver = homeserver.rstrip("/")
        self.user_id = user_id
        self.device_id = device_id
        self.access_token = access_token
        self._http: aiohttp.ClientSession | None = None

    # -- transport ----------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            # trust_env off: a proxy from the environment must not see the bot's token.
            self._http = aiohttp.ClientSession(trust_env=False)
        return self._http

    async def call(
        self,
        action: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        data: Any = None,
        content_type: str = "application/json",
        seconds: float = REQUEST_TIMEOUT,
    ) -> Any:
        """One request; the parsed JSON answer of a success, ``PlatformError`` otherwise.

        A connection the homeserver closed while idle (its restart) is found only when it
        is reused: such a request is sent once more on a new connection. Uploads (``data``,
        a stream read once) are not.
        """
        headers = {"Content-Type": content_type}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        payload = json.dumps(body) if body is not None else data
        limit = aiohttp.ClientTimeout(total=seconds)
        url = self.homeserver + path
        for attempt in (1, 2):
            try:
                async with self._session().request(
                    method, url, params=params, data=payload, headers=headers, timeout=limit
                ) as response:
                    status = response.status
                    raw = await response.read()
                break
            except aiohttp.ServerDisconnectedError as exc:
                if attempt == 1 and data is None:
                    continue
                raise errors.from_exception(action, exc) from exc
            except Exception as exc:
                raise errors.from_exception(action, exc) from exc
        try:
            answer: Any = json.loads(raw) if raw else None
        except ValueError:
            answer = None
        if status >= 400:
            raise errors.from_answer(action, status, answer)
        if answer is None:
            raise errors.from_error(action, status=None, code=None, reason="answer is not JSON")
        return answer

    async def close(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    # -- account ------------------------------------------------------------------------------

    async def whoami(self) -> Event:
        answer: Event = await self.call("whoami", "GET", f"{CLIENT}/account/whoami")
        return answer

    async def login(self, password: str, *, device_id: str, device_name: str) -> Event:
        """A password login; keeps ``device_id`` when given (the homeserver reuses it)."""
        body: Event = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": self.user_id},
            "password": password,
            "initial_device_display_name": device_name,
        }
        if device_id:
            body["device_id"] = device_id
        answer: Event = await self.call("login", "POST", f"{CLIENT}/login", body=body)
        return answer

    # -- rooms --------------------------------------------------------------------------------

    async def join(self, room: str) -> str:
        """Join (or accept the invite to) a room by id or alias; its id."""
        answer = await self.call("join", "POST", f"{CLIENT}/join/{_q(room)}", body={})
        return str(answer["room_id"])

    async def leave(self, room_id: str) -> None:
        await self.call("leave", "POST", f"{CLIENT}/rooms/{_q(room_id)}/leave", body={})

    async def create_room(self, body: Event) -> str:
        answer = await self.call("create room", "POST", f"{CLIENT}/createRoom", body=body)
        return str(answer["room_id"])

    async def room_state(self, room_id: str) -> list[Event]:
        answer = await self.call("read room state", "GET", f"{CLIENT}/rooms/{_q(room_id)}/state")
        return [event for event in answer if isinstance(event, dict)]

    def room_encrypted(self, room_id: str) -> bool:
        """Whether sends into the room are encrypted: never without E2EE."""
        return False

    # -- events -------------------------------------------------------------------------------

    async def send(
        self, action: str, room_id: str, event_type: str, content: Event, txn: str
    ) -> str:
        """Send an event; the homeserver answers a repeated ``txn`` with the first event."""
        path = f"{CLIENT}/rooms/{_q(room_id)}/send/{_q(event_type)}/{_q(txn)}"
        answer = await self.call(action, "PUT", path, body=content)
        event_id = answer.get("event_id") if isinstance(answer, dict) else None
        if not isinstance(event_id, str) or not event_id:
            raise errors.from_error(action, status=None, code=None, reason="no event_id")
        return event_id

    async def redact(
        self, action: str, room_id: str, event_id: str, txn: str, *, reason: str | None = None
    ) -> None:
        path = f"{CLIENT}/rooms/{_q(room_id)}/redact/{_q(event_id)}/{_q(txn)}"
        await self.call(action, "PUT", path, body={"reason": reason} if reason else {})

    async def event(self, room_id: str, event_id: str) -> Event | None:
        """The event as the homeserver has it now; None when it does not know it."""
        path = f"{CLIENT}/rooms/{_q(room_id)}/event/{_q(event_id)}"
        try:
            answer: Event = await self.call("read event", "GET", path)
        except PlatformError as exc:
            if exc.code == "M_NOT_FOUND":
                return None
            raise
        return answer

    async def relations(
        self,
        room_id: str,
        event_id: str,
        *,
        rel_type: str | None = None,
        event_type: str | None = None,
    ) -> list[Event]:
        """Every event relating to ``event_id`` (optionally by one relation and event type),
        all pages."""
        path = f"{CLIENT_V1}/rooms/{_q(room_id)}/relations/{_q(event_id)}"
        if rel_type:
            path += f"/{_q(rel_type)}" + (f"/{_q(event_type)}" if event_type else "")
        found: list[Event] = []
        params: dict[str, str] = {"limit": "100"}
        while True:
            page = await self.call("list relations", "GET", path, params=params)
            found.extend(event for event in page.get("chunk", []) if isinstance(event, dict))
            token = page.get("next_batch")
            if not isinstance(token, str) or not token or token == params.get("from"):
                return found
            params["from"] = token

    async def messages(
        self,
        room_id: str,
        *,
        start: str | None,
        end: str | None = None,
        limit: int = 100,
        event_filter: Event | None = None,
    ) -> tuple[list[Event], str | None]:
        """One page of the room's history backwards from ``start`` (newest first) and the
        token of the next page (None at the end)."""
        params = {"dir": "b", "limit": str(limit)}
        if start:
            params["from"] = start
        if end:
            params["to"] = end
        if event_filter:
            params["filter"] = json.dumps(event_filter)
        path = f"{CLIENT}/rooms/{_q(room_id)}/messages"
        page = await self.call("read room", "GET", path, params=params)
        chunk = [event for event in page.get("chunk", []) if isinstance(event, dict)]
        token = page.get("end")
        return chunk, token if isinstance(token, str) and token else None

    # -- sync ---------------------------------------------------------------------------------

    async def sync(
        self, *, since: str | None, timeout_ms: int, sync_filter: Event, full_state: bool
    ) -> Event:
        """One ``/sync``: the answer as the homeserver sent it (``rooms.join.<id>.timeline``
        and ``.state`` hold the events)."""
        params = {"timeout": str(timeout_ms), "filter": json.dumps(sync_filter)}
        if since:
            params["since"] = since
        if full_state:
            params["full_state"] = "true"
        budget = timeout_ms / 1000 + REQUEST_TIMEOUT
        answer: Event = await self.call(
            "sync", "GET", f"{CLIENT}/sync", params=params, seconds=budget
        )
        return answer

    async def housekeeping(self) -> None:
        """What the client does between syncs: nothing without E2EE."""

    # -- media --------------------------------------------------------------------------------

    async def upload(self, file: ChatFile, room_id: str) -> tuple[str, Event | None]:
        """Upload ``file`` for an event in ``room_id``: its ``mxc://`` URI and the keys an
        encrypted room's event needs (None here: the file goes as it is)."""
        with file.path.open("rb") as data:
            answer = await self.call(
                "upload file",
                "POST",
                MEDIA_UPLOAD,
                params={"filename": file.name},
                data=data,
                content_type=file.mime_type,
                seconds=UPLOAD_TIMEOUT,
            )
        uri = answer.get("content_uri") if isinstance(answer, dict) else None
        if not isinstance(uri, str) or not uri.startswith("mxc://"):
            raise errors.from_error("upload file", status=None, code=None, reason="no mxc URI")
        return uri, None
