"""Graph side over real HTTP: what the bot's production adapter calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.clock import ManualClock
from tests.sandbox.harness import (
    ACCESS_TOKEN,
    CUSTOMER,
    CUSTOMER_WA_ID,
    PHONE_NUMBER_ID,
    Env,
    sandbox_env,
)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    # Time stands still unless a test advances it: rate-limit buckets must not refill while
    # a loaded CI machine is slow between two requests.
    async with sandbox_env(clock=ManualClock()) as running:
        running.sandbox.say(CUSTOMER, "Hallo", name="Erika")  # opens the 24-hour window
        await running.sandbox.idle()
        yield running


BASE = {"messaging_product": "whatsapp", "to": CUSTOMER_WA_ID}


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    return dict(body["error"])


async def test_send_text_answers_documented_success_body(env: Env) -> None:
    response = await env.send_text("Guten Tag!", to="+4915112345678")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"messaging_product", "contacts", "messages"}
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+4915112345678", "wa_id": CUSTOMER_WA_ID}]
    (message,) = body["messages"]
    assert set(message) == {"id"}
    assert message["id"].startswith("wamid.")


async def test_any_graph_version_is_served(env: Env) -> None:
    url = f"{env.sandbox.base_url}/v27.0/{PHONE_NUMBER_ID}/messages"
    body = {"messaging_product": "whatsapp", "to": CUSTOMER_WA_ID, "text": {"body": "x"}}
    response = await env.http.post(
        url, json=body, headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}
    )
    assert response.status_code == 200  # and ``type`` defaults to text


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_bad_or_missing_token_is_401_code_190(env: Env, token: str | None) -> None:
    response = await env.send({**BASE, "text": {"body": "x"}}, token=token)
    assert response.status_code == 401
    error = _error(response)
    assert error["code"] == 190
    assert error["type"] == "OAuthException"
    assert error["error_subcode"] == 463
    assert error["message"].startswith("Error validating access token: ")
    assert error["fbtrace_id"]


async def test_token_in_query_is_accepted(env: Env) -> None:
    url = f"{env.sandbox.graph_url}/{PHONE_NUMBER_ID}/messages?access_token={ACCESS_TOKEN}"
    body = {"messaging_product": "whatsapp", "to": CUSTOMER_WA_ID, "text": {"body": "x"}}
    assert (await env.http.post(url, json=body)).status_code == 200


async def test_unknown_phone_number_id_is_400_code_100(env: Env) -> None:
    url = f"{env.sandbox.graph_url}/999999/messages"
    response = await env.http.post(
        url,
        json={"messaging_product": "whatsapp", "to": "1", "text": {"body": "x"}},
        headers={"Authorization": f"Bearer {ACCESS_TOKEN}"},
    )
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == 100
    assert "999999" in error["message"]


INVALID: list[tuple[str, dict[str, Any], int]] = [
    ("no messaging_product", {"to": "1", "type": "text", "text": {"body": "x"}}, 100),
    ("wrong product", {**BASE, "messaging_product": "sms", "text": {"body": "x"}}, 100),
    ("no to", {"messaging_product": "whatsapp", "text": {"body": "x"}}, 100),
    ("bad to", {**BASE, "to": "abc", "text": {"body": "x"}}, 100),
    ("unknown type", {**BASE, "type": "hologram", "hologram": {}}, 100),
    ("type without object", {**BASE, "type": "image"}, 100),
    ("text too long", {**BASE, "text": {"body": "x" * 4097}}, 131009),
    ("empty text", {**BASE, "text": {"body": ""}}, 131009),
    (
        "media id and link",
        {**BASE, "type": "image", "image": {"id": "1", "link": "https://a/b"}},
        100,
    ),
    ("media neither", {**BASE, "type": "image", "image": {"caption": "c"}}, 100),
    (
        "caption on audio",
        {**BASE, "type": "audio", "audio": {"link": "https://a", "caption": "c"}},
        100,
    ),
    ("unknown media id", {**BASE, "type": "image", "image": {"id": "123456789012345"}}, 131009),
    (
        "reaction w/o emoji",
        {**BASE, "type": "reaction", "reaction": {"message_id": "wamid.x"}},
        100,
    ),
    ("template w/o language", {**BASE, "type": "template", "template": {"name": "t"}}, 100),
    ("location w/o longitude", {**BASE, "type": "location", "location": {"latitude": 1}}, 100),
    ("contacts not a list", {**BASE, "type": "contacts", "contacts": {"name": "A"}}, 100),
    ("context w/o id", {**BASE, "text": {"body": "x"}, "context": {}}, 100),
    (
        "4 buttons",
        {
            **BASE,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Pick"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": str(i), "title": "t"}} for i in range(4)
                    ]
                },
            },
        },
        131009,
    ),
    (
        "button title > 20",
        {
            **BASE,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Pick"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "x" * 21}}]},
            },
        },
        131009,
    ),
    (
        "11 list rows",
        {
            **BASE,
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Choose"},
                "action": {
                    "button": "Options",
                    "sections": [
                        {"title": "S", "rows": [{"id": str(i), "title": "r"} for i in range(11)]}
                    ],
                },
            },
        },
        131009,
    ),
]


@pytest.mark.parametrize(("name", "body", "code"), INVALID, ids=[c[0] for c in INVALID])
async def test_invalid_bodies_are_refused_like_meta(
    env: Env, name: str, body: dict[str, Any], code: int
) -> None:
    response = await env.send(body)
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == code
    assert error["message"].startswith(f"(#{code}) ")
    assert error["error_data"]["details"]


async def test_text_of_exactly_4096_chars_is_fine(env: Env) -> None:
    assert (await env.send_text("x" * 4096)).status_code == 200


VALID: list[dict[str, Any]] = [
    {
        **BASE,
        "type": "text",
        "text": {"body": "r", "preview_url": True},
        "context": {"message_id": "wamid.A="},
    },
    {**BASE, "type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "c"}},
    {**BASE, "type": "document", "document": {"link": "https://e/x.pdf", "filename": "x.pdf"}},
    {**BASE, "type": "video", "video": {"link": "https://example.com/v.mp4"}},
    {**BASE, "type": "audio", "audio": {"link": "https://example.com/a.ogg"}},
    {**BASE, "type": "sticker", "sticker": {"link": "https://example.com/s.webp"}},
    {**BASE, "type": "reaction", "reaction": {"message_id": "wamid.A=", "emoji": "👍"}},
    {**BASE, "type": "location", "location": {"latitude": 52.5, "longitude": 13.4, "name": "B"}},
    {
        **BASE,
        "type": "contacts",
        "contacts": [{"name": {"formatted_name": "A"}, "phones": [{"phone": "+1 555"}]}],
    },
    {**BASE, "type": "reaction", "reaction": {"message_id": "wamid.A=", "emoji": ""}},
    {
        **BASE,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Choose"},
            "action": {
                "button": "Options",
                "sections": [
                    {"title": "S1", "rows": [{"id": "r1", "title": "Row", "description": "d"}]}
                ],
            },
        },
    },
]


@pytest.mark.parametrize("body", VALID, ids=[f"{b['type']}-{i}" for i, b in enumerate(VALID)])
async def test_valid_bodies_are_accepted(env: Env, body: dict[str, Any]) -> None:
    response = await env.send(body)
    assert response.status_code == 200, response.text


async def test_template_answer_carries_message_status(env: Env) -> None:
    body = {
        **BASE,
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en_US"}, "components": []},
    }
    response = await env.send(body)
    assert response.status_code == 200
    assert response.json()["messages"][0]["message_status"] == "accepted"


async def test_mark_as_read(env: Env) -> None:
    inbound = env.receiver.messages[0]["id"]
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": inbound}
    response = await env.send(body)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    typing = {**body, "typing_indicator": {"type": "text"}}
    assert (await env.send(typing)).json() == {"success": True}
    inbox = env.sandbox.inbox(CUSTOMER)
    assert inbox["read_by_business"] == [inbound]
    assert inbox["typing"] is True


async def test_mark_as_read_with_unknown_wamid_is_131009(env: Env) -> None:
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.nope="}
    response = await env.send(body)
    assert response.status_code == 400
    assert _error(response)["code"] == 131009


async def test_bad_json_body_is_400(env: Env) -> None:
    url = f"{env.sandbox.graph_url}/{PHONE_NUMBER_ID}/messages"
    response = await env.http.post(
        url, content=b"{nope", headers={"Authorization": f"Bearer {ACCESS_TOKEN}"}
    )
    assert response.status_code == 400
    assert _error(response)["code"] == 100


# -- limits ---------------------------------------------------------------------------------


async def test_throughput_limit_is_429_130429_with_retry_after(env: Env) -> None:
    env.sandbox.configure(rate_limit_per_second=2, pair_limit_burst=100)
    codes = [(await env.send_text(str(i))).status_code for i in range(2)]
    assert codes == [200, 200]
    response = await env.send_text("one too many")
    assert response.status_code == 429
    error = _error(response)
    assert error["code"] == 130429
    assert error["message"] == "(#130429) Rate limit hit"
    assert error["error_data"] == {
        "messaging_product": "whatsapp",
        "details": "Cloud API message throughput has been reached.",
    }
    assert response.headers["Retry-After"] == "1"
    # moving the sandbox clock refills the bucket
    env.sandbox.advance_clock(1.0)
    assert (await env.send_text("again")).status_code == 200


async def test_retry_after_header_can_be_switched_off(env: Env) -> None:
    env.sandbox.configure(rate_limit_per_second=1, retry_after_header=False)
    await env.send_text("a")
    response = await env.send_text("b")
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


async def test_refused_send_is_not_recorded(env: Env) -> None:
    env.sandbox.configure(rate_limit_per_second=1)
    await env.send_text("a")
    await env.send_text("b")
    texts = [m["text"] for m in env.sandbox.inbox(CUSTOMER)["messages"]]
    assert texts == ["a"]


async def test_pair_limit_is_131056_for_one_recipient_only(env: Env) -> None:
    env.sandbox.configure(pair_limit_burst=2, pair_limit_seconds=60)
    other = "+4917000000042"
    env.sandbox.say(other, "Hi")
    assert [(await env.send_text(str(i))).status_code for i in range(2)] == [200, 200]
    response = await env.send_text("third")
    assert response.status_code == 429
    error = _error(response)
    assert error["code"] == 131056
    assert error["message"].startswith("(#131056) ")
    assert int(response.headers["Retry-After"]) == 60
    assert (await env.send_text("other customer", to=other)).status_code == 200
    env.sandbox.advance_clock(60)
    assert (await env.send_text("later")).status_code == 200


async def test_pair_limit_zero_seconds_turns_it_off(env: Env) -> None:
    env.sandbox.configure(pair_limit_burst=1, pair_limit_seconds=0)
    codes = {(await env.send_text(str(i))).status_code for i in range(5)}
    assert codes == {200}
