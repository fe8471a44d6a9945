"""Every inbound type of the fact sheet → domain objects (fixtures from the documented shapes)."""

from __future__ import annotations

import pytest

from adapters.whatsapp.parse import MAX_UPDATES, TooManyUpdates, parse_webhook
from bot.domain import DeliveryStatus, InboundMessage, MessageKind
from bot.errors import PayloadError
from tests.support.calls import calls
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


def _wrap(messages: str) -> bytes:
    return (
        b'{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages",'
        b'"value":{"messages":[' + messages.encode() + b"]}}]}]}"
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"object":"page","entry":[]}', "whatsapp_business_account"),
        (b'{"object":"whatsapp_business_account","entry":{}}', "entry must be a list"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (_wrap('{"id":"w","from":"1","type":"text","timestamp":Infinity}'), "Infinity"),
        (_wrap('{"id":"w","from":"1","type":"text","timestamp":NaN}'), "NaN"),
        (_wrap('{"id":"w","from":"1","type":"text","timestamp":1' + "0" * 5000 + "}"), "JSON"),
    ],
)
def test_malformed_envelopes_are_payload_errors(raw: bytes, reason: str) -> None:
    with pytest.raises(PayloadError, match=reason) as refused:
        parse_webhook(raw)
    assert refused.value.status == 400


def test_more_updates_than_meta_sends_in_one_post_is_413() -> None:
    messages = [dict(MESSAGES["text"], id=f"wamid.{i}") for i in range(MAX_UPDATES)]
    assert len(parse_webhook(body(envelope(messages=messages))).messages) == MAX_UPDATES
    with pytest.raises(TooManyUpdates, match="more than 1000") as refused:
        parse_webhook(body(envelope(messages=messages, statuses=[STATUSES["sent"]])))
    assert refused.value.status == 413


GOOD = (
    '{"id":"wamid.good","from":"4915112345678","type":"text","timestamp":"1","text":{"body":"ok"}}'
)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ('{"from":"1","type":"text","timestamp":"1"}', "id missing"),
        ('{"id":"w","from":"1","type":"text","timestamp":"soon"}', "timestamp"),
        ('{"id":"w","from":"1","type":"text","timestamp":1.5}', "timestamp"),
        ('{"id":"w","from":"1","type":"text","timestamp":true}', "timestamp"),
        ('{"id":"w","from":"1","type":"text","timestamp":"' + "9" * 30 + '"}', "timestamp"),
        ('{"id":"w\\u0000x","from":"1","type":"text","timestamp":"1"}', "id is not a valid"),
        ('{"id":"w\\nx","from":"1","type":"text","timestamp":"1"}', "id is not a valid"),
        ('{"id":"w\\ud83d","from":"1","type":"text","timestamp":"1"}', "id is not a valid"),
        ('{"id":"' + "w" * 257 + '","from":"1","type":"text","timestamp":"1"}', "id is not"),
        ('{"id":"w","from":"49\\u00001","type":"text","timestamp":"1"}', "from is not a valid"),
        ('{"id":"w","from":"+4915112345678","type":"text","timestamp":"1"}', "from is not"),
        ('{"id":"w","from":["1"],"type":"text","timestamp":"1"}', "from is not a valid"),
        ('"just a string"', "must be an object"),
    ],
)
def test_an_unusable_message_is_kept_as_invalid_and_its_sibling_stored(
    bad: str, reason: str
) -> None:
    """Meta redelivers a refused POST for days: one bad message must not hold up the rest."""
    batch = parse_webhook(_wrap(f"{bad},{GOOD}"))
    assert [m.provider_id for m in batch.messages] == ["wamid.good"]
    assert len(batch.unsupported) == 1
    assert batch.unsupported[0].field.startswith("invalid message:")
    assert reason in batch.unsupported[0].field


def test_an_unusable_status_is_kept_as_invalid() -> None:
    bad = dict(STATUSES["sent"], timestamp="x")
    batch = parse_webhook(body(envelope(statuses=[bad, STATUSES["read"]])))
    assert [s.status for s in batch.statuses] == [DeliveryStatus.READ]
    assert [u.field for u in batch.unsupported] == [
        "invalid status: timestamp missing or not Unix seconds"
    ]


def test_status_error_codes_beyond_sqlite_integers_are_dropped() -> None:
    huge = dict(STATUSES["failed"], errors=[{"code": 10**19, "title": "x"}])
    assert parse_webhook(body(envelope(statuses=[huge]))).statuses[0].error_code is None


def test_interactive_without_its_object_is_an_unsupported_message() -> None:
    """What Meta sends for interactive types it cannot pass on (defect 10)."""
    raw = {
        "from": "4915112345678",
        "id": "wamid.int131000",
        "timestamp": "1749416402",
        "type": "interactive",
        "errors": [{"code": 131000, "title": "Something went wrong"}],
    }
    msg = parse_webhook(body(envelope(messages=[raw]))).messages[0]
    assert msg.kind is MessageKind.UNSUPPORTED
    assert (msg.unsupported_type, msg.error_code) == ("interactive", 131000)


@pytest.mark.parametrize(
    "content",
    [
        {"type": "location", "location": {"latitude": "1e999", "longitude": 0}},
        {"type": "location", "location": {"latitude": 91, "longitude": 0}},
        {"type": "image", "image": {"id": "a b"}},
        {"type": "reaction", "reaction": {}},
        {"type": "text", "text": "not an object"},
    ],
)
def test_unreadable_content_makes_an_unsupported_message(content: dict[str, object]) -> None:
    raw = {"from": "4915112345678", "id": "wamid.x", "timestamp": "1749416402", **content}
    msg = parse_webhook(body(envelope(messages=[raw]))).messages[0]
    assert msg.kind is MessageKind.UNSUPPORTED
    assert msg.unsupported_type == content["type"]


@pytest.mark.parametrize(
    "where",
    ["text", "profile name", "caption", "raw bytes"],
)
def test_unstorable_characters_are_replaced_and_flagged(where: str) -> None:
    """Lone surrogates (a cut emoji) and bytes that are not UTF-8 cannot be stored as text;
    they become U+FFFD and the message says so. Its sibling is not flagged."""
    doc = envelope(messages=[MESSAGES["image"], dict(MESSAGES["text"], id="wamid.sibling")])
    value = doc["entry"][0]["changes"][0]["value"]
    if where == "text":
        value["messages"][0] = dict(MESSAGES["text"], text={"body": "cut \ud83d"})
    elif where == "profile name":
        value["contacts"] = [{"profile": {"name": "Erika \ud83d"}, "wa_id": "4915199999999"}]
        value["messages"][0] = dict(MESSAGES["text"], **{"from": "4915199999999"})
    elif where == "caption":
        value["messages"][0]["image"] = dict(MESSAGES["image"]["image"], caption="\udfff")
    elif where == "raw bytes":
        value["messages"][0] = dict(MESSAGES["text"], text={"body": "BYTES"})
    raw = body(doc).replace(b"BYTES", b"BY\xffTES")
    first, sibling = parse_webhook(raw).messages
    stored = first.model_dump_json()  # what the store writes must encode, and read back
    assert "\ufffd" in stored.encode().decode()
    assert InboundMessage.model_validate_json(stored) == first
    assert first.repaired and not sibling.repaired


def test_a_message_is_built_once_with_its_business_number() -> None:
    """Parsing runs for every webhook: one model per message and its sender, no copy to add
    the business number, and no masking of a type Empfang knows (it holds no number)."""
    raw = body(envelope(messages=[MESSAGES["text"]]))
    counted = calls(lambda: parse_webhook(raw))
    batch = parse_webhook(raw)
    assert batch.messages[0].number_id == "106540352242922"
    assert counted["pydantic.main.BaseModel.__init__"] == 3  # the message, its sender, the batch
    assert counted["pydantic.main.BaseModel.model_copy"] == 0
    assert counted["bot.logfilter.mask_log_text"] == 0
