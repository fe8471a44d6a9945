"""The sandbox's template side over real HTTP, as the Cloud adapter meets it: the paged
catalogue, template sends refused with Meta's codes, the driver routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.sandbox.core import DEFAULT_WABA_ID
from tests.sandbox.harness import ACCESS_TOKEN, CUSTOMER, CUSTOMER_WA_ID, Env, sandbox_env

AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with sandbox_env(clock=ManualClock()) as running:
        running.sandbox.say(CUSTOMER, "Hallo", name="Erika")
        await running.sandbox.idle()
        yield running


def _catalogue_url(env: Env, waba_id: str = DEFAULT_WABA_ID) -> str:
    return f"{env.sandbox.graph_url}/{waba_id}/message_templates"


async def test_the_catalogue_is_paged_like_graph(env: Env) -> None:
    url = _catalogue_url(env)
    seen: list[tuple[str, str]] = []
    params: dict[str, str] | None = {"limit": "3", "fields": "name,language,status"}
    pages = 0
    while url:
        response = await env.http.get(url, params=params, headers=AUTH)
        assert response.status_code == 200
        body = response.json()
        pages += 1
        for item in body["data"]:
            assert set(item) == {"id", "name", "language", "status"}
            seen.append((item["name"], item["language"]))
        url = body.get("paging", {}).get("next", "")
        params = None  # the next URL carries limit and cursor
    assert pages == 3 and len(seen) == len(set(seen)) == 9
    approved = await env.http.get(_catalogue_url(env), params={"status": "APPROVED"}, headers=AUTH)
    assert {t["status"] for t in approved.json()["data"]} == {"APPROVED"}


async def test_the_catalogue_needs_the_token_and_the_account(env: Env) -> None:
    refused = await env.http.get(_catalogue_url(env))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == 190
    unknown = await env.http.get(_catalogue_url(env, "999"), headers=AUTH)
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == 100


def _send(name: str, language: str, *components: dict[str, Any]) -> dict[str, Any]:
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = list(components)
    return {
        "messaging_product": "whatsapp",
        "to": CUSTOMER_WA_ID,
        "type": "template",
        "template": template,
    }


def _body(*texts: Any) -> dict[str, Any]:
    return {"type": "body", "parameters": [{"type": "text", "text": t} for t in texts]}


@pytest.mark.parametrize(
    ("send", "code"),
    [
        (_send("order_update", "en_US", _body("Erika")), 132000),
        (_send("order_update", "en_US"), 132000),
        (_send("nope", "en_US"), 132001),
        (_send("order_update", "fr"), 132001),
        (_send("new_offer", "en_US", _body("x")), 132001),  # pending
        (_send("rejected_promo", "en_US", _body("x")), 132001),
        (_send("spring_sale", "de", _body("20 %")), 132015),
        (_send("old_notice", "en_US"), 132016),
        (
            _send(
                "order_update",
                "en_US",
                {
                    "type": "body",
                    "parameters": [{"type": "currency"}, {"type": "text", "text": "A"}],
                },
            ),
            132012,
        ),
        (_send("order_update", "en_US", _body("Erika\\nMusterfrau", "A-1")), None),
        (_send("order_update", "en_US", _body("Erika\nMusterfrau", "A-1")), 132018),
    ],
)
async def test_template_sends_are_checked_like_meta(
    env: Env, send: dict[str, Any], code: int | None
) -> None:
    url = f"{env.sandbox.graph_url}/{env.sandbox.business.phone_number_id}/messages"
    response = await env.http.post(url, json=send, headers=AUTH)
    assert env.sandbox.templates.sends == [send], "journalled, refused or not"
    if code is None:
        assert response.status_code == 200
        assert response.json()["messages"][0]["message_status"] == "accepted"
        return
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == code and error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["details"]
    assert env.sandbox.inbox(CUSTOMER)["messages"] == []


async def test_a_driver_can_pause_a_template(env: Env) -> None:
    base = env.sandbox.base_url
    entry = {
        "name": "order_update",
        "language": "de",
        "category": "UTILITY",
        "status": "PAUSED",
        "components": [{"type": "BODY", "text": "Hallo {{1}}"}],
    }
    changed = await env.http.post(f"{base}/sandbox/templates", json=entry)
    assert changed.status_code == 200
    listed = (await env.http.get(f"{base}/sandbox/templates")).json()["templates"]
    assert [
        t["status"] for t in listed if t["name"] == "order_update" and t["language"] == "de"
    ] == ["PAUSED"]
    bad = await env.http.post(f"{base}/sandbox/templates", json={**entry, "status": "LIVE"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]
