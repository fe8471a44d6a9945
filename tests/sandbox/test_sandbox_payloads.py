"""Payload builders produce the documented wire shapes (fact sheet §2–§5)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from bot.sandbox import payloads as p

BUSINESS = p.BusinessNumber("102290129340398", "106540352242922", "15550783881")
WAMID = re.compile(r"^wamid\.[A-Za-z0-9+/]+={0,2}$")


def test_signature_matches_documented_vector() -> None:
    body = p.encode({"object": "whatsapp_business_account", "entry": []})
    assert body == b'{"object":"whatsapp_business_account","entry":[]}'
    assert p.signature("test_app_secret", body) == (
        "sha256=dec6a680679a968e7e0319355b23599cbfc54502c0784668e9618baa0c633756"
    )


def test_encode_escapes_unicode_like_meta() -> None:
    body = p.encode(p.text("äöå😮"))
    assert body == b'{"type":"text","text":{"body":"\\u00e4\\u00f6\\u00e5\\ud83d\\ude2e"}}'


def test_signed_returns_headers_over_exact_bytes() -> None:
    body, headers = p.signed({"a": "ü"}, "s3cret")
    assert headers["X-Hub-Signature-256"] == p.signature("s3cret", body)
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("outbound", [False, True])
def test_wamid_is_base64_and_embeds_the_number(outbound: bool) -> None:
    wamid = p.new_wamid("16505551234", outbound=outbound)
    assert WAMID.match(wamid)
    raw = base64.b64decode(wamid.removeprefix("wamid."))
    assert b"16505551234" in raw
    assert raw.startswith(b"\x1c\x18\x0b")
    assert p.new_wamid("16505551234") != p.new_wamid("16505551234")


def test_media_id_is_a_digit_string() -> None:
    media_id = p.new_media_id()
    assert media_id.isdigit() and 15 <= len(media_id) <= 16


def _message(content: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return p.inbound_message(content, sender="16505551234", wamid="wamid.X=", timestamp="1", **kw)


def test_envelope_matches_section_2() -> None:
    message = _message(p.text("Does it come in another color?"))
    body = p.messages_webhook(
        BUSINESS, [p.contact_profile("16505551234", "Sheena Nelson")], [message]
    )
    assert body == {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "contacts": [
                                {"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}
                            ],
                            "messages": [
                                {
                                    "from": "16505551234",
                                    "id": "wamid.X=",
                                    "timestamp": "1",
                                    "type": "text",
                                    "text": {"body": "Does it come in another color?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


MEDIA = {"mime_type": "image/jpeg", "sha256": "abc="}
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("text", p.text("Body Text"), {"type": "text", "text": {"body": "Body Text"}}),
    (
        "image",
        p.image("65463453", caption="c", **MEDIA),
        {"image": {"id": "65463453", "caption": "c", **MEDIA}},
    ),
    ("image-no-caption", p.image("1", **MEDIA), {"image": {"id": "1", **MEDIA}}),
    (
        "video",
        p.video("765756756", mime_type="video/mp4", sha256="s", caption="caption"),
        {
            "video": {
                "id": "765756756",
                "mime_type": "video/mp4",
                "sha256": "s",
                "caption": "caption",
            }
        },
    ),
    (
        "audio-voice",
        p.audio("9", mime_type="audio/ogg; codecs=opus", sha256="s", voice=True),
        {"audio": {"id": "9", "mime_type": "audio/ogg; codecs=opus", "sha256": "s", "voice": True}},
    ),
    (
        "audio-file",
        p.audio("9", mime_type="audio/mpeg", sha256="s", voice=False),
        {"audio": {"id": "9", "mime_type": "audio/mpeg", "sha256": "s", "voice": False}},
    ),
    (
        "document",
        p.document(
            "7", mime_type="application/pdf", sha256="s", filename="filename.pdf", caption="cap"
        ),
        {
            "document": {
                "id": "7",
                "filename": "filename.pdf",
                "mime_type": "application/pdf",
                "sha256": "s",
                "caption": "cap",
            }
        },
    ),
    (
        "sticker",
        p.sticker("5", mime_type="image/webp", sha256="s", animated=False),
        {"sticker": {"id": "5", "mime_type": "image/webp", "sha256": "s", "animated": False}},
    ),
    (
        "location-place",
        p.location(
            37.4611978,
            -122.2164385,
            name="Facebook HQ",
            address="1 Hacker Way, Menlo Park, CA 94025",
            url="https://example.com",
        ),
        {
            "location": {
                "latitude": 37.4611978,
                "longitude": -122.2164385,
                "name": "Facebook HQ",
                "address": "1 Hacker Way, Menlo Park, CA 94025",
                "url": "https://example.com",
            }
        },
    ),
    (
        "location-current",
        p.location(52.52, 13.405),
        {"location": {"latitude": 52.52, "longitude": 13.405}},
    ),
    (
        "contacts",
        p.contacts(
            [
                p.contact_card(
                    "Chandler Bing",
                    "+1 555-555-5555",
                    wa_id="972987654321",
                    first_name="Chandler",
                    last_name="Bing",
                )
            ]
        ),
        {
            "contacts": [
                {
                    "name": {
                        "formatted_name": "Chandler Bing",
                        "first_name": "Chandler",
                        "last_name": "Bing",
                    },
                    "phones": [
                        {"phone": "+1 555-555-5555", "wa_id": "972987654321", "type": "CELL"}
                    ],
                }
            ]
        },
    ),
    (
        "button_reply",
        p.button_reply("callback_data", "title"),
        {
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": "callback_data", "title": "title"},
            },
        },
    ),
    (
        "list_reply",
        p.list_reply("row_id", "row title", "optional"),
        {
            "interactive": {
                "type": "list_reply",
                "list_reply": {"id": "row_id", "title": "row title", "description": "optional"},
            }
        },
    ),
    (
        "nfm_reply",
        p.nfm_reply({"flow_token": "T"}),
        {
            "interactive": {
                "type": "nfm_reply",
                "nfm_reply": {
                    "name": "flow",
                    "body": "Sent",
                    "response_json": '{"flow_token": "T"}',
                },
            }
        },
    ),
    (
        "button",
        p.button("callback_data", "title"),
        {"type": "button", "button": {"payload": "callback_data", "text": "title"}},
    ),
    (
        "reaction",
        p.reaction("wamid.yzxyzx=", "😮"),
        {"reaction": {"message_id": "wamid.yzxyzx=", "emoji": "😮"}},
    ),
    (
        "reaction-removed-empty",
        p.reaction("wamid.y=", ""),
        {"reaction": {"message_id": "wamid.y=", "emoji": ""}},
    ),
    (
        "reaction-removed-omitted",
        p.reaction("wamid.y=", None),
        {"reaction": {"message_id": "wamid.y="}},
    ),
    (
        "order",
        p.order("cat", [p.product_item("SODA", 2, 10, "ILS")]),
        {
            "order": {
                "catalog_id": "cat",
                "text": "",
                "product_items": [
                    {
                        "product_retailer_id": "SODA",
                        "quantity": 2,
                        "item_price": 10,
                        "currency": "ILS",
                    }
                ],
            }
        },
    ),
    (
        "user_changed_number",
        p.user_changed_number("972987654321", "972912345678"),
        {
            "type": "system",
            "system": {
                "body": "User A changed from 972987654321 to 972912345678",
                "wa_id": "972912345678",
                "type": "user_changed_number",
            },
        },
    ),
    (
        "customer_identity_changed",
        p.customer_identity_changed("h", "1700000000"),
        {
            "type": "system",
            "system": {"body": "User identity changed", "type": "customer_identity_changed"},
            "identity": {"acknowledged": True, "created_timestamp": "1700000000", "hash": "h"},
        },
    ),
    (
        "unsupported",
        p.unsupported("poll"),
        {
            "type": "unsupported",
            "unsupported": {"type": "poll"},
            "errors": [
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
        },
    ),
    (
        "edit",
        p.edit("wamid.zzzzzz", p.text("Text was edited")),
        {
            "type": "edit",
            "edit": {
                "original_message_id": "wamid.zzzzzz",
                "message": {"type": "text", "text": {"body": "Text was edited"}},
            },
        },
    ),
    (
        "revoke",
        p.revoke("wamid.orig"),
        {"type": "revoke", "revoke": {"original_message_id": "wamid.orig"}},
    ),
    ("request_welcome", p.request_welcome(), {"type": "request_welcome"}),
]


@pytest.mark.parametrize(("name", "content", "expected"), CASES, ids=[c[0] for c in CASES])
def test_inbound_content_shapes(
    name: str, content: dict[str, Any], expected: dict[str, Any]
) -> None:
    message = _message(content)
    assert message["from"] == "16505551234"
    assert message["timestamp"] == "1"
    for key, value in expected.items():
        assert message[key] == value, key
    # a message round-trips through the wire encoding unchanged
    assert json.loads(p.encode(message)) == message


def test_all_documented_types_are_covered() -> None:
    types = {_message(content)["type"] for _, content, _ in CASES}
    assert types == {
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "order",
        "system",
        "unsupported",
        "edit",
        "revoke",
        "request_welcome",
    }


def test_contexts() -> None:
    reply = _message(p.button_reply("a", "b"), context=p.reply_context(BUSINESS, "wamid.Q="))
    assert reply["context"] == {"from": "15550783881", "id": "wamid.Q="}
    assert p.forwarded_context() == {"forwarded": True}
    assert p.forwarded_context(frequently=True) == {"frequently_forwarded": True}


def test_sent_status_shape() -> None:
    entry = p.status(
        "wamid.xyzxyz",
        "sent",
        recipient_id="972987654321",
        timestamp="1698266945",
        conversation_obj=p.conversation("7270", "service", "1698339900"),
        pricing_obj=p.pricing("service", billable=False, pricing_type="free_customer_service"),
        biz_opaque_callback_data="some data",
    )
    assert entry == {
        "id": "wamid.xyzxyz",
        "status": "sent",
        "timestamp": "1698266945",
        "recipient_id": "972987654321",
        "biz_opaque_callback_data": "some data",
        "conversation": {
            "id": "7270",
            "expiration_timestamp": "1698339900",
            "origin": {"type": "service"},
        },
        "pricing": {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        },
    }


@pytest.mark.parametrize("state", ["delivered", "read"])
def test_later_statuses_have_no_expiration(state: str) -> None:
    conv = p.conversation("c", "service", None)
    entry = p.status("wamid.x", state, recipient_id="1", timestamp="2", conversation_obj=conv)
    assert "expiration_timestamp" not in entry["conversation"]
    assert entry["status"] == state


def test_failed_status_matches_documented_example() -> None:
    entry = p.status(
        "wamid.xyzxyz",
        "failed",
        recipient_id="972987654321",
        timestamp="1689380458",
        errors=[p.WINDOW_CLOSED_ERROR],
    )
    assert entry == {
        "id": "wamid.xyzxyz",
        "status": "failed",
        "timestamp": "1689380458",
        "recipient_id": "972987654321",
        "errors": [
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {
                    "details": "Message failed to send because more than 24 hours have passed "
                    "since the customer last replied to this number."
                },
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ],
    }
    assert p.UNDELIVERABLE_ERROR["code"] == 131026


def test_status_webhook_has_no_contacts() -> None:
    body = p.statuses_webhook(BUSINESS, [p.status("w", "sent", recipient_id="1", timestamp="2")])
    value = body["entry"][0]["changes"][0]["value"]
    assert "contacts" not in value and "messages" not in value
    assert value["statuses"][0]["id"] == "w"
    assert body["entry"][0]["id"] == BUSINESS.waba_id
