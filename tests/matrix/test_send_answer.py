"""A send's answer, as both clients read it: the plain one (``MatrixApi``, every room
without E2EE) and nio's for E2EE (``RelayClient``, which reads a successful send's event id
itself and leaves every other answer to nio).

A tiny homeserver (aiohttp) answers the send endpoint with what each test sets, so each
client runs its real HTTP path and its answers map to ``PlatformError`` as in the adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from nio import AsyncClientConfig, RoomSendResponse

from adapters.matrix.api import MatrixApi
from adapters.matrix.e2ee import RelayClient, request
from bot.demo.stack import free_port
from bot.errors import PlatformError

ROOM = "!support:example.org"


class SendAnswers:
    """The homeserver's send endpoint; ``status`` and ``body`` are the next answer."""

    def __init__(self) -> None:
        self.status = 200
        self.body: Any = {"event_id": "$first"}
        self.received: list[dict[str, Any]] = []
        self.txns: list[str] = []

    async def send(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        self.txns.append(request.match_info["txn"])
        return web.json_response(self.body, status=self.status)


@pytest.fixture
async def homeserver() -> AsyncIterator[tuple[SendAnswers, str]]:
    answers = SendAnswers()
    app = web.Application()
    app.router.add_put("/_matrix/client/v3/rooms/{room}/send/{type}/{txn}", answers.send)
    server = TestServer(app)
    await server.start_server()
    yield answers, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture(params=["plain", "e2ee"])
def client_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def send(url: str, text: str, kind: str = "plain") -> str:
    """Send as the adapter does with ``kind``'s client; the event id."""
    body = {"msgtype": "m.text", "body": text}
    if kind == "plain":
        api = MatrixApi(url, "@bot:example.org", access_token="token")
        try:
            return await api.send("post", ROOM, "m.room.message", body, "t1")
        finally:
            await api.close()
    # As e2ee.client_config: a 429 comes back at once instead of being slept off in nio.
    config = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=1, request_timeout=10)
    client = RelayClient(url, "@bot:example.org", config=config)
    client.access_token = "token"
    try:
        sent = client.room_send(ROOM, "m.room.message", body, tx_id="t1")
        response = await request("post", sent, RoomSendResponse)
        assert response.room_id == ROOM
        return str(response.event_id)
    finally:
        await client.close()


async def test_a_sent_event_answers_its_id(
    homeserver: tuple[SendAnswers, str], client_kind: str
) -> None:
    answers, url = homeserver
    assert await send(url, "Hallo", client_kind) == "$first"
    assert answers.received == [{"msgtype": "m.text", "body": "Hallo"}]
    assert answers.txns == ["t1"]


async def test_a_rate_limit_still_says_when_to_retry(
    homeserver: tuple[SendAnswers, str], client_kind: str
) -> None:
    answers, url = homeserver
    answers.status = 429
    answers.body = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many", "retry_after_ms": 1500}
    with pytest.raises(PlatformError) as raised:
        await send(url, "Hallo", client_kind)
    assert raised.value.retryable
    assert raised.value.retry_after == 1.5
    assert raised.value.code == "M_LIMIT_EXCEEDED"


async def test_a_refused_send_is_permanent(
    homeserver: tuple[SendAnswers, str], client_kind: str
) -> None:
    answers, url = homeserver
    answers.status = 403
    answers.body = {"errcode": "M_FORBIDDEN", "error": "not in room"}
    with pytest.raises(PlatformError) as raised:
        await send(url, "Hallo", client_kind)
    assert not raised.value.retryable
    assert raised.value.code == "M_FORBIDDEN"


@pytest.mark.parametrize("body", [{}, {"event_id": 17}, ["$e"]])
async def test_a_200_without_an_event_id_is_an_error_not_a_post(
    homeserver: tuple[SendAnswers, str], body: Any, client_kind: str
) -> None:
    """Retried rather than recording a post that has no id (with nio: its own check
    answers it with an error response)."""
    answers, url = homeserver
    answers.body = body
    with pytest.raises(PlatformError):
        await send(url, "Hallo", client_kind)


@pytest.mark.parametrize(("status", "outage"), [(502, True), (503, True), (500, False)])
async def test_a_server_error_is_retried_a_gateway_error_is_an_outage(
    homeserver: tuple[SendAnswers, str], status: int, outage: bool
) -> None:
    answers, url = homeserver
    answers.status = status
    answers.body = {"errcode": "M_UNKNOWN", "error": "busy"}
    with pytest.raises(PlatformError) as raised:
        await send(url, "Hallo")
    assert raised.value.retryable and raised.value.outage is outage


async def test_a_rejected_token_is_permanent(homeserver: tuple[SendAnswers, str]) -> None:
    answers, url = homeserver
    answers.status = 401
    answers.body = {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"}
    with pytest.raises(PlatformError) as raised:
        await send(url, "Hallo")
    assert not raised.value.retryable and raised.value.code == "M_UNKNOWN_TOKEN"


async def test_an_unreachable_homeserver_is_an_outage() -> None:
    with pytest.raises(PlatformError) as raised:
        await send(f"http://127.0.0.1:{free_port()}", "Hallo")
    assert raised.value.retryable and raised.value.outage
