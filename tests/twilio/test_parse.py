"""Twilio forms → domain objects: inbound messages, status callbacks, other senders."""

from __future__ import annotations

import pytest

from adapters.twilio.parse import parse_form
from bot.domain import DeliveryStatus, ForeignChange, MessageKind, WebhookBatch
from tests.fakes.twilio import SENDER
from tests.numbers import CUSTOMER

NOW = 1_780_000_000.0
FROM = f"whatsapp:+{CUSTOMER}"
MEDIA_URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"


def inbound(**extra: str) -> list[tuple[str, str]]:
    form = {
        "MessageSid": "SM" + "1" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": FROM,
        "To": SENDER,
        "Body": "Hallo",
        "NumMedia": "0",
        "ProfileName": "Erika",
        "WaId": CUSTOMER,
        "SmsStatus": "received",
    }
    form.update(extra)
    return list(form.items())


def status(state: str, **extra: str) -> list[tuple[str, str]]:
    form = {"MessageSid": "SM" + "2" * 32, "MessageStatus": state, "From": SENDER, "To": FROM}
    form.update(extra)
    return list(form.items())


def parse(params: list[tuple[str, str]]) -> WebhookBatch:
    return parse_form(params, numbers={SENDER}, now=NOW)


def test_text_message() -> None:
    (message,) = parse(inbound()).messages
    assert message.kind is MessageKind.TEXT and message.text == "Hallo"
    assert message.sender.wa_id == CUSTOMER and message.sender.profile_name == "Erika"
    assert message.timestamp == int(NOW) and message.provider_id == "SM" + "1" * 32


def test_message_names_the_sender_it_was_written_to() -> None:
    """Its conversation is the customer's with that sender and replies leave from it;
    without the number, a message to a second sender joined the first number's thread."""
    other = "whatsapp:+14155550123"
    (message,) = parse_form(inbound(To=other), numbers={SENDER, other}, now=NOW).messages
    assert message.number_id == other


def test_media_message_keeps_its_url_as_id_and_body_as_caption() -> None:
    params = inbound(NumMedia="1", MediaUrl0=MEDIA_URL, MediaContentType0="image/jpeg", Body="Foto")
    (message,) = parse(params).messages
    assert message.kind is MessageKind.IMAGE
    assert message.media is not None
    assert (message.media.media_id, message.media.url) == (MEDIA_URL, MEDIA_URL)
    assert (message.media.mime_type, message.media.caption) == ("image/jpeg", "Foto")


@pytest.mark.parametrize(
    ("mime", "kind"),
    [
        ("audio/ogg", MessageKind.AUDIO),
        ("video/mp4", MessageKind.VIDEO),
        ("application/pdf", MessageKind.DOCUMENT),
        ("image/webp", MessageKind.STICKER),
    ],
)
def test_media_kinds_follow_the_content_type(mime: str, kind: MessageKind) -> None:
    params = inbound(NumMedia="1", MediaUrl0=MEDIA_URL, MediaContentType0=mime, Body="")
    assert parse(params).messages[0].kind is kind


def test_location_button_and_reply_context() -> None:
    location = parse(inbound(Latitude="52.52", Longitude="13.4", Label="Büro", Body=""))
    assert location.messages[0].location is not None
    assert location.messages[0].location.name == "Büro"
    button = parse(inbound(ButtonPayload="yes", ButtonText="Ja"))
    assert button.messages[0].choice is not None and button.messages[0].choice.title == "Ja"
    reply = parse(inbound(OriginalRepliedMessageSid="SM" + "9" * 32))
    assert reply.messages[0].context_id == "SM" + "9" * 32


@pytest.mark.parametrize("broken", [{"From": "+4915112345678"}, {"MessageSid": ""}])
def test_unusable_message_is_kept_as_an_unsupported_event(broken: dict[str, str]) -> None:
    batch = parse(inbound(**broken))
    assert batch.messages == () and len(batch.unsupported) == 1
    assert CUSTOMER not in batch.unsupported[0].field


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
        ("failed", DeliveryStatus.FAILED),
        ("undelivered", DeliveryStatus.FAILED),
    ],
)
def test_status_callbacks_map_to_the_same_delivery_states(
    state: str, expected: DeliveryStatus
) -> None:
    (update,) = parse(status(state)).statuses
    assert update.status is expected


def test_failed_status_carries_the_error_code() -> None:
    (update,) = parse(status("undelivered", ErrorCode="63016")).statuses
    assert update.error_code == 63016


@pytest.mark.parametrize("state", ["queued", "sending", "accepted", "scheduled"])
def test_states_before_sending_store_nothing(state: str) -> None:
    batch = parse(status(state))
    assert (batch.statuses, batch.unsupported, batch.foreign) == ((), (), ())


def test_messages_to_and_statuses_from_another_sender_are_foreign() -> None:
    other = "whatsapp:+14155550000"
    to_other = parse(inbound(To=other))
    from_other = parse(status("read", From=other))
    assert to_other.messages == () and from_other.statuses == ()
    assert to_other.foreign == (ForeignChange(number_id="14155550000", messages=1),)
    assert from_other.foreign == (ForeignChange(number_id="14155550000", statuses=1),)
