"""Driver API over HTTP with ``SandboxClient``: every customer message type and the controls."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.sandbox import SandboxClient, SandboxClientError, SandboxUnavailable
from tests.sandbox.harness import CUSTOMER, CUSTOMER_WA_ID, Env, sandbox_env


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with sandbox_env() as running:
        yield running


@pytest.fixture
async def client(env: Env) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(env.sandbox.base_url) as driver:
        yield driver


async def _deliver(env: Env, client: SandboxClient, spec: dict[str, Any]) -> dict[str, Any]:
    wamid = await client.send_message({"from": CUSTOMER, **spec})
    assert await client.idle()
    message = env.receiver.messages[-1]
    assert message["id"] == wamid
    assert message["from"] == CUSTOMER_WA_ID
    return message


async def _business_message(env: Env) -> str:
    response = await env.send_text("Wie können wir helfen?")
    wamid: str = response.json()["messages"][0]["id"]
    await env.sandbox.idle()
    return wamid


async def test_say_over_http(env: Env, client: SandboxClient) -> None:
    wamid = await client.say("+49 (151) 123-45678", "Hallo", name="Erika")
    await client.idle()
    (received,) = env.receiver.received
    assert received.value["contacts"][0] == {"profile": {"name": "Erika"}, "wa_id": CUSTOMER_WA_ID}
    assert received.value["messages"][0]["id"] == wamid


async def test_text_reply_to_business_message(env: Env, client: SandboxClient) -> None:
    await client.say(CUSTOMER, "Hallo")
    target = await _business_message(env)
    message = await _deliver(env, client, {"text": "Danke", "reply_to": target})
    assert message["context"] == {
        "from": env.sandbox.business.display_phone_number,
        "id": target,
    }


async def test_forwarded(env: Env, client: SandboxClient) -> None:
    message = await _deliver(env, client, {"text": "fwd", "forwarded": True})
    assert message["context"] == {"forwarded": True}
    message = await _deliver(env, client, {"text": "fwd", "frequently_forwarded": True})
    assert message["context"] == {"frequently_forwarded": True}


@pytest.mark.parametrize("kind", ["image", "video", "audio", "document", "sticker"])
async def test_media_types(env: Env, client: SandboxClient, kind: str) -> None:
    message = await _deliver(env, client, {"type": kind})
    obj = message[kind]
    assert message["type"] == kind
    assert obj["id"].isdigit() and obj["sha256"] and obj["mime_type"]
    if kind == "audio":
        assert obj["voice"] is True
    if kind == "sticker":
        assert obj["animated"] is False and obj["mime_type"] == "image/webp"
    if kind == "document":
        assert obj["filename"]


async def test_audio_file_not_voice(env: Env, client: SandboxClient) -> None:
    spec = {"type": "audio", "voice": False, "mime_type": "audio/mpeg"}
    message = await _deliver(env, client, spec)
    assert message["audio"]["voice"] is False
    assert message["audio"]["mime_type"] == "audio/mpeg"


async def test_location_with_and_without_place(env: Env, client: SandboxClient) -> None:
    place = {"latitude": 52.52, "longitude": 13.405, "name": "Büro", "address": "Str. 1"}
    message = await _deliver(env, client, {"type": "location", "location": place})
    assert message["location"] == place
    current = {"latitude": 48.1, "longitude": 11.5}
    message = await _deliver(env, client, {"type": "location", "location": current})
    assert message["location"] == current


async def test_contacts_shortcut_and_full_card(env: Env, client: SandboxClient) -> None:
    full = {"name": {"formatted_name": "A B"}, "phones": [{"phone": "+1 555", "type": "HOME"}]}
    spec = {
        "type": "contacts",
        "contacts": [{"name": "Max Muster", "phone": "+49 170 1234567"}, full],
    }
    message = await _deliver(env, client, spec)
    first, second = message["contacts"]
    assert first == {
        "name": {"formatted_name": "Max Muster"},
        "phones": [{"phone": "+49 170 1234567", "type": "CELL", "wa_id": "491701234567"}],
    }
    assert second == full


async def test_interactive_replies_carry_context(env: Env, client: SandboxClient) -> None:
    await client.say(CUSTOMER, "Hallo")
    target = await _business_message(env)
    button = await _deliver(env, client, {"type": "button_reply", "id": "yes", "title": "Ja"})
    assert button["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "yes", "title": "Ja"},
    }
    assert button["context"]["id"] == target
    row = await _deliver(
        env, client, {"type": "list_reply", "id": "r1", "title": "Row", "description": "d"}
    )
    assert row["interactive"]["list_reply"] == {"id": "r1", "title": "Row", "description": "d"}
    flow = await _deliver(env, client, {"type": "nfm_reply", "response_json": {"flow_token": "t"}})
    assert json.loads(flow["interactive"]["nfm_reply"]["response_json"]) == {"flow_token": "t"}
    template_tap = await _deliver(
        env, client, {"type": "button", "payload": "STOP", "text": "Stop"}
    )
    assert template_tap["button"] == {"payload": "STOP", "text": "Stop"}
    assert template_tap["context"]["id"] == target


async def test_reaction_and_its_removal(env: Env, client: SandboxClient) -> None:
    await client.say(CUSTOMER, "Hallo")
    target = await _business_message(env)
    added = await _deliver(env, client, {"type": "reaction", "emoji": "👍"})
    assert added["reaction"] == {"message_id": target, "emoji": "👍"}
    removed = await _deliver(env, client, {"type": "reaction", "message_id": target, "emoji": ""})
    assert removed["reaction"] == {"message_id": target, "emoji": ""}
    omitted = await _deliver(env, client, {"type": "reaction", "message_id": target})
    assert omitted["reaction"] == {"message_id": target}


async def test_order(env: Env, client: SandboxClient) -> None:
    items = [{"product_retailer_id": "SODA", "quantity": 2, "item_price": 10, "currency": "EUR"}]
    message = await _deliver(
        env, client, {"type": "order", "catalog_id": "c1", "product_items": items}
    )
    assert message["order"] == {"catalog_id": "c1", "text": "", "product_items": items}


async def test_system_messages(env: Env, client: SandboxClient) -> None:
    changed = await _deliver(
        env, client, {"type": "user_changed_number", "new_number": "+49 151 99999999"}
    )
    assert changed["type"] == "system"
    assert changed["system"]["type"] == "user_changed_number"
    assert changed["system"]["wa_id"] == "4915199999999"
    identity = await _deliver(env, client, {"type": "customer_identity_changed"})
    assert identity["system"]["type"] == "customer_identity_changed"
    assert identity["identity"]["acknowledged"] is True


async def test_unsupported_edit_revoke_welcome(env: Env, client: SandboxClient) -> None:
    unsupported = await _deliver(env, client, {"type": "unsupported", "unsupported_type": "poll"})
    assert unsupported["errors"][0]["code"] == 131051
    original = await client.say(CUSTOMER, "Tippfeler")
    edited = await _deliver(
        env, client, {"type": "edit", "original_message_id": original, "text": "Tippfehler"}
    )
    assert edited["edit"] == {
        "original_message_id": original,
        "message": {"type": "text", "text": {"body": "Tippfehler"}},
    }
    revoked = await _deliver(env, client, {"type": "revoke", "original_message_id": original})
    assert revoked["revoke"] == {"original_message_id": original}
    welcome = await _deliver(env, client, {"type": "request_welcome"})
    assert set(welcome) == {"from", "id", "timestamp", "type"}


async def test_raw_message_extra_fields_and_contact(env: Env, client: SandboxClient) -> None:
    raw = await _deliver(env, client, {"message": {"type": "poll", "poll": {"q": "?"}}})
    assert raw["type"] == "poll" and raw["poll"] == {"q": "?"}
    extra = await _deliver(env, client, {"text": "x", "extra": {"from_user_id": "US.1"}})
    assert extra["from_user_id"] == "US.1"
    contact = {"profile": {"name": "U"}, "user_id": "US.13491208655302741918"}
    await _deliver(env, client, {"text": "x", "contact": contact})
    assert env.receiver.received[-1].value["contacts"] == [contact]


async def test_raw_webhook_over_http(env: Env, client: SandboxClient) -> None:
    payload = {"object": "whatsapp_business_account", "entry": []}
    await client.post_webhook(payload)
    await client.idle()
    assert env.receiver.received[0].body == b'{"object":"whatsapp_business_account","entry":[]}'
    assert env.receiver.received[0].headers["X-Hub-Signature-256"] == (
        "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"
    )


async def test_inbox_read_unreachable_clock_over_http(env: Env, client: SandboxClient) -> None:
    await client.configure(auto_read=False)
    await client.say(CUSTOMER, "Hallo", name="Erika")
    await client.idle()
    wamid = await _business_message(env)
    inbox = await client.inbox("+4915112345678")
    assert inbox["name"] == "Erika" and inbox["window_open"] is True
    assert inbox["messages"][0]["status"] == "delivered"
    assert await client.read("4915112345678") == [wamid]
    await client.idle()
    assert (await client.inbox(CUSTOMER))["messages"][0]["status"] == "read"
    await client.set_unreachable(CUSTOMER)
    assert (await client.inbox(CUSTOMER))["unreachable"] is True
    before = (await client.info())["now"]
    assert await client.advance_clock(3600) >= before + 3600


async def test_number_routes_take_the_number_in_the_path_too(env: Env) -> None:
    await env.sandbox.idle()
    env.sandbox.say(CUSTOMER, "Hallo")
    base = env.sandbox.base_url
    inbox = await env.http.get(f"{base}/sandbox/inbox/%2B49%20151%2012345678")
    assert inbox.status_code == 200 and inbox.json()["wa_id"] == CUSTOMER_WA_ID
    read = await env.http.post(f"{base}/sandbox/read/{CUSTOMER_WA_ID}")
    assert read.json() == {"read": []}
    unreachable = await env.http.post(
        f"{base}/sandbox/unreachable/{CUSTOMER_WA_ID}", json={"unreachable": True}
    )
    assert unreachable.json() == {"unreachable": True}
    assert env.sandbox.inbox(CUSTOMER)["unreachable"] is True
    missing = await env.http.post(f"{base}/sandbox/read")
    assert missing.status_code == 400 and "number" in missing.json()["error"]


async def test_client_keeps_numbers_out_of_urls(
    client: SandboxClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await client.say(CUSTOMER, "x")
        await client.inbox(CUSTOMER)
        await client.read(CUSTOMER)
        await client.set_unreachable(CUSTOMER, False)
    assert caplog.records
    assert not any(CUSTOMER_WA_ID[-8:] in r.getMessage() for r in caplog.records)


async def test_deliveries_and_verify_over_http(env: Env, client: SandboxClient) -> None:
    await client.say(CUSTOMER, "x")
    await client.idle()
    (delivery,) = await client.deliveries()
    assert delivery["kind"] == "messages" and delivery["state"] == "delivered"
    assert (await client.verify_webhook())["ok"] is True


async def test_config_over_http(client: SandboxClient) -> None:
    config = await client.configure(rate_limit_per_second=5, duplicate_deliveries=True)
    assert config["rate_limit_per_second"] == 5 and config["duplicate_deliveries"] is True
    with pytest.raises(SandboxClientError, match="rate_limit_per_second"):
        await client.configure(rate_limit_per_second=-1)
    with pytest.raises(SandboxClientError, match="port"):
        await client.configure(port=1)
    with pytest.raises(SandboxClientError, match="no_such_key"):
        await client.configure(no_such_key=1)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"text": "x"}, "from"),
        ({"from": "abc", "text": "x"}, "from"),
        ({"from": CUSTOMER, "type": "hologram"}, "unknown type"),
        ({"from": CUSTOMER, "type": "text"}, "text"),
        ({"from": CUSTOMER, "type": "reaction", "emoji": "x"}, "message_id"),
        ({"from": CUSTOMER, "type": "location", "location": {"latitude": 1}}, "longitude"),
        ({"from": CUSTOMER, "type": "image", "data_base64": "!!"}, "base64"),
        ({"from": CUSTOMER, "type": "image", "media_id": "1"}, "media_id"),
    ],
)
async def test_bad_driver_requests_explain_themselves(
    client: SandboxClient, spec: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SandboxClientError, match=problem) as info:
        await client.send_message(spec)
    assert info.value.status == 400


async def test_reset(env: Env, client: SandboxClient) -> None:
    await client.say(CUSTOMER, "x")
    await client.idle()
    await client.reset()
    assert await client.deliveries() == []
    assert (await client.inbox(CUSTOMER))["window_open"] is False


async def test_unavailable_sandbox() -> None:
    async with SandboxClient("http://127.0.0.1:1") as client:
        with pytest.raises(SandboxUnavailable, match="empfang sandbox"):
            await client.say(CUSTOMER, "x")
