"""Graph outages on demand (``POST /sandbox/outage``): documented error bodies, in turn, until
the outage ends on the sandbox clock; a refused send reaches nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.sandbox.harness import CUSTOMER, Env, sandbox_env


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with sandbox_env() as running:
        yield running


async def _driver(env: Env, method: str, path: str, body: object = None) -> httpx.Response:
    return await env.http.request(method, f"{env.sandbox.base_url}{path}", json=body)


async def test_outage_answers_500_and_429_in_turn_until_it_ends(env: Env) -> None:
    started = await _driver(env, "POST", "/sandbox/outage", {"statuses": [500, 429], "seconds": 60})
    assert started.json()["outage"]["statuses"] == [500, 429]

    failed = await env.send_text("eins")
    assert failed.status_code == 500
    error = failed.json()["error"]
    assert (error["code"], error["message"]) == (131000, "(#131000) Something went wrong")
    assert error["fbtrace_id"]

    limited = await env.send_text("eins")
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert (error["code"], error["error_subcode"]) == (130429, 2494055)
    assert error["error_data"]["details"] == "Cloud API message throughput has been reached."
    assert 59 <= int(limited.headers["Retry-After"]) <= 60

    assert (await env.send_text("eins")).status_code == 500  # and round again
    view = (await _driver(env, "GET", "/sandbox/outage")).json()
    assert view["outage"]["refused"] == 3
    assert env.sandbox.inbox(CUSTOMER)["messages"] == [], "a refused send reaches nobody"

    env.sandbox.advance_clock(60)
    assert (await env.send_text("zwei")).status_code == 200
    assert [m["text"] for m in env.sandbox.inbox(CUSTOMER)["messages"]] == ["zwei"]


async def test_503_and_ending_an_outage_early(env: Env) -> None:
    env.sandbox.configure(retry_after_header=False)
    env.sandbox.start_outage([503, 429], 30)
    unavailable = await env.send_text("eins")
    assert unavailable.status_code == 503
    assert unavailable.json()["error"]["code"] == 131016
    assert "Retry-After" not in (await env.send_text("eins")).headers
    await _driver(env, "POST", "/sandbox/outage", {"seconds": 0})
    assert (await env.send_text("eins")).status_code == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"statuses": [404], "seconds": 5}, "statuses: a non-empty list of 500, 503, 429"),
        ({"statuses": [], "seconds": 5}, "statuses: a non-empty list of 500, 503, 429"),
        ({"statuses": "500", "seconds": 5}, "statuses: a list of HTTP statuses"),
        ({"statuses": [500]}, "seconds: required"),
        ({"statuses": [500], "seconds": -1}, "seconds: must be 0"),
    ],
)
async def test_bad_outage_requests_are_400_with_the_field(
    env: Env, body: dict[str, object], reason: str
) -> None:
    answer = await _driver(env, "POST", "/sandbox/outage", body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(reason)
