"""Every adapter tells an outage (nothing reachable) from a failed request, so the worker waits
an outage out instead of dead-lettering posts that were never the problem."""

from __future__ import annotations

import httpx
import pytest

from adapters.cases.http import request
from adapters.matrix import errors as matrix_errors
from adapters.slack import errors as slack_errors
from adapters.whatsapp.errors import error_from_response, unreachable_as
from bot.demo.stack import free_port
from bot.errors import CaseSinkError, ProviderError


def test_matrix_unreachable_homeserver_and_gateway_errors_are_outages() -> None:
    assert matrix_errors.from_exception("send", ConnectionRefusedError()).outage
    assert not matrix_errors.from_exception("send", ValueError()).outage


def test_slack_unreachable_is_an_outage() -> None:
    assert slack_errors.from_exception("chat.postMessage", ConnectionResetError()).outage
    assert not slack_errors.from_exception("chat.postMessage", ValueError()).outage


@pytest.mark.parametrize(
    ("status", "outage"), [(502, True), (503, True), (504, True), (500, False)]
)
def test_whatsapp_gateway_answers_are_outages_a_500_is_not(status: int, outage: bool) -> None:
    response = httpx.Response(status, json={"error": {"code": 1, "message": "x"}})
    assert error_from_response(response).outage is outage


def test_whatsapp_connection_refused_is_an_outage() -> None:
    with pytest.raises(ProviderError) as caught, unreachable_as("send"):
        raise httpx.ConnectError("refused")
    assert caught.value.outage and caught.value.retryable


async def test_case_system_refusing_connections_is_an_outage() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(CaseSinkError) as caught:
            await request(client, "POST", f"http://127.0.0.1:{free_port()}/", what="webhook")
    assert caught.value.outage
