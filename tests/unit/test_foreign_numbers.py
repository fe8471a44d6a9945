"""Parsing with the configured business numbers: other numbers' changes are only counted."""

from __future__ import annotations

from typing import Any

from adapters.whatsapp.parse import ECHOES_FIELD, parse_webhook
from bot.domain import ForeignChange
from bot.foreign_numbers import shown
from tests.whatsapp_fixtures import MESSAGES, STATUSES, body, envelope

OURS = "106540352242922"


def _addressed(doc: dict[str, Any], number_id: object) -> dict[str, Any]:
    doc["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number_id
    return doc


def test_ours_is_parsed_as_before() -> None:
    batch = parse_webhook(body(envelope(messages=[MESSAGES["text"]])), numbers={OURS})
    assert len(batch.messages) == 1 and batch.foreign == ()


def test_another_numbers_messages_and_statuses_are_counted_not_parsed() -> None:
    doc = _addressed(
        envelope(messages=[MESSAGES["text"]], statuses=[STATUSES["sent"]]), "209876543210987"
    )
    batch = parse_webhook(body(doc), numbers={OURS})
    assert (batch.messages, batch.statuses, batch.unsupported) == ((), (), ())
    assert batch.foreign == (ForeignChange(number_id="209876543210987", messages=1, statuses=1),)


def test_a_number_id_that_is_no_identifier_is_recorded_as_none() -> None:
    doc = _addressed(envelope(messages=[MESSAGES["text"]]), 42)
    batch = parse_webhook(body(doc), numbers={OURS})
    assert batch.messages == () and batch.foreign[0].number_id == ""


def test_echoes_of_another_number_are_dropped_too() -> None:
    """Coexistence echoes are per number as well (the class, not only ``messages``)."""
    doc = envelope(messages=[])
    change = doc["entry"][0]["changes"][0]
    change["field"] = ECHOES_FIELD
    change["value"]["metadata"]["phone_number_id"] = "209876543210987"
    change["value"]["message_echoes"] = [{"id": "wamid.e", "to": "4915112345678"}]
    batch = parse_webhook(body(doc), numbers={OURS})
    assert batch.echoes == () and batch.foreign[0].messages == 1


def test_without_numbers_every_change_is_read() -> None:
    doc = _addressed(envelope(messages=[MESSAGES["text"]]), "209876543210987")
    assert len(parse_webhook(body(doc)).messages) == 1


def test_log_shows_only_the_last_digits() -> None:
    assert shown("209876543210987") == "…0987"
    assert shown("") == "(none)"
