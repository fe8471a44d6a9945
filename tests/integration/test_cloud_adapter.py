"""The Cloud API adapter against the sandbox (real HTTP), and Graph error mapping."""

from __future__ import annotations

import httpx
import pytest

from adapters.whatsapp.cloud import CloudWhatsApp
from adapters.whatsapp.errors import error_from_response
from bot.domain import OutboundText
from bot.errors import ProviderError, RateLimited, TokenInvalid, Undeliverable, WindowClosed
from bot.sandbox import SandboxServer
from tests.conftest import SECRETS
from tests.numbers import CUSTOMER

CUSTOMER_PLUS = "+" + CUSTOMER


def adapter(sandbox: SandboxServer, token: str = SECRETS["access_token"]) -> CloudWhatsApp:
    return CloudWhatsApp(
        api_base=sandbox.graph_url,
        phone_number_id=SECRETS["phone_number_id"],
        access_token=token,
        app_secret=SECRETS["app_secret"],
        verify_token=SECRETS["verify_token"],
    )


async def test_send_text_with_reply_context_and_mark_read(sandbox: SandboxServer) -> None:
    customer_msg = sandbox.say(CUSTOMER_PLUS, "Hallo")
    await sandbox.idle()
    whatsapp = adapter(sandbox)
    try:
        wamid = await whatsapp.send_text(CUSTOMER, OutboundText(text="Hi!", reply_to=customer_msg))
        await whatsapp.mark_read(customer_msg)
    finally:
        await whatsapp.aclose()
    (received,) = sandbox.inbox(CUSTOMER)["messages"]
    assert received["id"] == wamid and received["text"] == "Hi!"
    assert received["context"] == {"message_id": customer_msg}
    assert customer_msg in sandbox.inbox(CUSTOMER)["read_by_business"]


async def test_bad_token_is_token_invalid(sandbox: SandboxServer) -> None:
    whatsapp = adapter(sandbox, token="expired")
    try:
        with pytest.raises(TokenInvalid) as info:
            await whatsapp.send_text(CUSTOMER, OutboundText(text="Hi"))
    finally:
        await whatsapp.aclose()
    assert info.value.code == 190 and not info.value.retryable


async def test_throughput_limit_is_rate_limited_with_retry_after(sandbox: SandboxServer) -> None:
    sandbox.say(CUSTOMER_PLUS, "Hallo")
    await sandbox.idle()
    sandbox.configure(rate_limit_per_second=2)
    whatsapp = adapter(sandbox)
    try:
        with pytest.raises(RateLimited) as info:
            for n in range(10):
                await whatsapp.send_text(CUSTOMER, OutboundText(text=f"n{n}"))
    finally:
        await whatsapp.aclose()
    assert info.value.code == 130429 and info.value.retry_after is not None


async def test_unreachable_host_is_retryable() -> None:
    whatsapp = CloudWhatsApp(
        api_base="http://127.0.0.1:9/v23.0",
        phone_number_id="1",
        access_token="t",
        app_secret="s",
        verify_token="v",
        timeout=2,
    )
    try:
        with pytest.raises(ProviderError) as info:
            await whatsapp.send_text(CUSTOMER, OutboundText(text="Hi"))
    finally:
        await whatsapp.aclose()
    assert info.value.retryable and CUSTOMER not in str(info.value)


def graph_error(status: int, code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        headers=headers,
        json={"error": {"message": f"(#{code}) Title", "type": "OAuthException", "code": code}},
    )


@pytest.mark.parametrize(
    ("response", "kind", "retryable"),
    [
        (graph_error(401, 190), TokenInvalid, False),
        (graph_error(400, 131047), WindowClosed, False),
        (graph_error(400, 131026), Undeliverable, False),
        (graph_error(429, 130429), RateLimited, True),
        (graph_error(400, 131056), RateLimited, True),
        (graph_error(500, 131000), ProviderError, True),
        (graph_error(503, 2), ProviderError, True),
        (graph_error(400, 100), ProviderError, False),
        (httpx.Response(502, text="<html>bad gateway</html>"), ProviderError, True),
    ],
)
def test_graph_errors_map_to_the_exception_tree(
    response: httpx.Response, kind: type[ProviderError], retryable: bool
) -> None:
    error = error_from_response(response)
    assert type(error) is kind
    assert error.retryable is retryable


def test_pair_limit_waits_and_retry_after_header_wins() -> None:
    assert error_from_response(graph_error(400, 131056)).retry_after == 16.0
    limited = error_from_response(graph_error(429, 130429, {"Retry-After": "7"}))
    assert limited.retry_after == 7.0
