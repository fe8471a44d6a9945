"""Every inbound type of the fact sheet → domain objects (fixtures from the documented shapes)."""

from __future__ import annotations

import pytest

from adapters.whatsapp.parse import parse_webhook
from bot.domain import DeliveryStatus, InboundMessage, MessageKind
from bot.errors import PayloadError
from tests.whatsapp_fixtures import MESSAGES, STATUSES, body, envelope


def parse_one(name: str) -> InboundMessage:
    batch = parse_webhook(body(envelope(messages=[MESSAGES[name]])))
    assert len(batch.messages) == 1
    return batch.messages[0]


def test_every_fixture_parses() -> None:
    batch = parse_webhook(body(envelope(messages=list(MESSAGES.values()))))
    assert len(batch.messages) == len(MESSAGES)


def test_text_with_sender_and_profile_name() -> None:
    msg = parse_one("text")
    assert msg.kind is MessageKind.TEXT
    assert msg.text == "Does it come in another color?"
    assert msg.sender.wa_id == "4915112345678"
    assert msg.sender.profile_name == "Erika Mustermann"
    assert msg.timestamp == 1749416383


def test_a_nul_in_a_profile_name_is_dropped_and_in_a_text_kept() -> None:
    doc = envelope(messages=[MESSAGES["text"]])
    doc["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] = "Er\x00ika"
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "a\x00b"
    msg = parse_webhook(body(doc)).messages[0]
    assert msg.sender.profile_name == "Erika"
    assert msg.text == "a\x00b"


@pytest.mark.parametrize(
    ("name", "kind", "caption", "filename"),
    [
        ("image", MessageKind.IMAGE, "optional", None),
        ("video", MessageKind.VIDEO, "caption", None),
        ("document", MessageKind.DOCUMENT, "caption", "filename.pdf"),
        ("sticker", MessageKind.STICKER, None, None),
        ("audio", MessageKind.AUDIO, None, None),
    ],
)
def test_media(name: str, kind: MessageKind, caption: str | None, filename: str | None) -> None:
    msg = parse_one(name)
    assert msg.kind is kind
    assert msg.media is not None
    assert msg.media.caption == caption
    assert msg.media.filename == filename
    assert msg.media.media_id == MESSAGES[name][name]["id"]


def test_voice_note_is_flagged() -> None:
    msg = parse_one("voice")
    assert msg.media is not None and msg.media.voice


def test_location_named_and_current() -> None:
    named = parse_one("location")
    assert named.location is not None and named.location.name == "Facebook HQ"
    current = parse_one("location_current")
    assert current.location is not None
    assert current.location.name is None and current.location.latitude == pytest.approx(52.520008)


def test_contacts_keep_name_and_phones_only() -> None:
    msg = parse_one("contacts")
    (card,) = msg.contacts
    assert card.name == "Chandler Bing"
    assert [p.number for p in card.phones] == ["+49 176 12345678"]
    assert "chandler@example.com" not in msg.model_dump_json()
    assert "1968" not in msg.model_dump_json()


@pytest.mark.parametrize(
    ("name", "choice_id", "title"),
    [
        ("button_reply", "callback_data", "title"),
        ("list_reply", "row_id", "row title"),
        ("flow_reply", "flow", "Sent"),
        ("button", "callback_data", "title"),
    ],
)
def test_choices(name: str, choice_id: str, title: str) -> None:
    msg = parse_one(name)
    assert msg.choice is not None
    assert (msg.choice.id, msg.choice.title) == (choice_id, title)


def test_reply_context_is_kept() -> None:
    assert parse_one("button_reply").context_id == "wamid.ours1"


def test_reaction_and_its_removal() -> None:
    added = parse_one("reaction")
    assert added.reaction is not None and added.reaction.emoji == "😮"
    removed = parse_one("reaction_removed")
    assert removed.reaction is not None and removed.reaction.emoji == ""


def test_order_summary() -> None:
    assert parse_one("order").text == "2 × SODA"


def test_system_messages() -> None:
    changed = parse_one("system_number_change")
    assert changed.kind is MessageKind.SYSTEM
    assert changed.unsupported_type == "user_changed_number"
    assert parse_one("system_identity").text == "User identity changed"


def test_unsupported_keeps_its_inner_type_and_error() -> None:
    msg = parse_one("unsupported")
    assert msg.kind is MessageKind.UNSUPPORTED
    assert msg.unsupported_type == "poll"
    assert msg.error_code == 131051


def test_unknown_type_is_stored_as_unsupported() -> None:
    msg = parse_one("brand_new_type")
    assert msg.kind is MessageKind.UNSUPPORTED
    assert msg.unsupported_type == "hologram"


def test_edit_and_revoke_point_at_the_original() -> None:
    edit = parse_one("edit")
    assert edit.kind is MessageKind.EDIT and edit.text == "Corrected text"
    assert edit.target_id == MESSAGES["text"]["id"]
    assert parse_one("revoke").target_id == "wamid.image1"


def test_request_welcome_and_forwarded() -> None:
    assert parse_one("request_welcome").kind is MessageKind.REQUEST_WELCOME
    assert parse_one("forwarded_text").forwarded


def test_username_user_keyed_by_bsuid() -> None:
    msg = parse_one("username_user")
    assert msg.sender.wa_id is None
    assert msg.sender.key == "US.13491208655302741918"


def test_statuses() -> None:
    batch = parse_webhook(body(envelope(statuses=list(STATUSES.values()))))
    assert [s.status for s in batch.statuses] == [
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.READ,
        DeliveryStatus.FAILED,
    ]
    failed = batch.statuses[-1]
    assert (failed.error_code, failed.error_title) == (131047, "Re-engagement message")


def test_unknown_field_kept_as_unsupported_event() -> None:
    doc = envelope(messages=[])
    doc["entry"][0]["changes"].append({"field": "account_update", "value": {"event": "X"}})
    batch = parse_webhook(body(doc))
    assert [u.field for u in batch.unsupported] == ["account_update"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"object":"page","entry":[]}', "whatsapp_business_account"),
        (b'{"object":"whatsapp_business_account","entry":{}}', "entry must be a list"),
        (
            b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",'
            b'"value":{"messages":[{"from":"1","type":"text","timestamp":"1"}]}}]}]}',
            "id missing",
        ),
        (
            b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",'
            b'"value":{"messages":[{"id":"w","from":"1","type":"text","timestamp":"soon",'
            b'"text":{"body":"x"}}]}}]}]}',
            "timestamp",
        ),
        (
            b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",'
            b'"value":{"messages":[{"id":"w\\u0000x","from":"1","type":"text",'
            b'"timestamp":"1","text":{"body":"x"}}]}}]}]}',
            r"messages\[\]\.id contains a NUL character",
        ),
        (
            b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",'
            b'"value":{"messages":[{"id":"w","from":"49\\u00001","type":"text",'
            b'"timestamp":"1","text":{"body":"x"}}]}}]}]}',
            r"messages\[\]\.from contains a NUL character",
        ),
    ],
)
def test_malformed_bodies_are_payload_errors(raw: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason):
        parse_webhook(raw)
