"""``RelayClient`` reads a successful send's event id itself; every other answer is nio's.

A tiny homeserver (aiohttp) answers the send endpoint with what each test sets, so the
client runs its real HTTP path; the answers go through ``errors.request`` as in the adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from nio import AsyncClientConfig, RoomSendResponse

from adapters.matrix import errors
from adapters.matrix.session import RelayClient
from bot.errors import PlatformError

ROOM = "!support:example.org"


class SendAnswers:
    """The homeserver's send endpoint; ``status`` and ``body`` are the next answer."""

    def __init__(self) -> None:
        self.status = 200
        self.body: Any = {"event_id": "$first"}
        self.received: list[dict[str, Any]] = []

    async def send(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
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


async def send(url: str, text: str) -> RoomSendResponse:
    # As session.client_config: a 429 comes back at once instead of being slept off in nio.
    config = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=1, request_timeout=10)
    client = RelayClient(url, "@bot:example.org", config=config)
    client.access_token = "token"
    try:
        body = {"msgtype": "m.text", "body": text}
        sent = client.room_send(ROOM, "m.room.message", body, tx_id="t1")
        return await errors.request("post", sent, RoomSendResponse)
    finally:
        await client.close()


async def test_a_sent_event_answers_its_id_and_room(homeserver: tuple[SendAnswers, str]) -> None:
    answers, url = homeserver
    response = await send(url, "Hallo")
    assert (response.event_id, response.room_id) == ("$first", ROOM)
    assert answers.received == [{"msgtype": "m.text", "body": "Hallo"}]


async def test_a_rate_limit_still_says_when_to_retry(homeserver: tuple[SendAnswers, str]) -> None:
    answers, url = homeserver
    answers.status = 429
    answers.body = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many", "retry_after_ms": 1500}
    with pytest.raises(PlatformError) as raised:
        await send(url, "Hallo")
    assert raised.value.retryable
    assert raised.value.retry_after == 1.5
    assert raised.value.code == "M_LIMIT_EXCEEDED"


async def test_a_refused_send_is_permanent(homeserver: tuple[SendAnswers, str]) -> None:
    answers, url = homeserver
    answers.status = 403
    answers.body = {"errcode": "M_FORBIDDEN", "error": "not in room"}
    with pytest.raises(PlatformError) as raised:
        await send(url, "Hallo")
    assert not raised.value.retryable
    assert raised.value.code == "M_FORBIDDEN"


@pytest.mark.parametrize("body", [{}, {"event_id": 17}, ["$e"]])
async def test_a_200_without_an_event_id_is_an_error_not_a_post(
    homeserver: tuple[SendAnswers, str], body: Any
) -> None:
    """nio's own check answers it (an error response), so the job is retried rather than
    recording a post that has no id."""
    answers, url = homeserver
    answers.body = body
    with pytest.raises(PlatformError):
        await send(url, "Hallo")
