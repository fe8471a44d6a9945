"""Twilio's error answers → the exception tree, and the codes → the thread's plain words."""

from __future__ import annotations

import httpx
import pytest

from adapters.twilio.errors import error_from_response
from bot import explain
from bot.errors import ProviderError, RateLimited, TokenInvalid, Undeliverable, WindowClosed
from bot.texts import texts_for
from tests.numbers import CUSTOMER

TEXTS = texts_for("en")


def answer(status: int, code: int | None, message: str = "m", **headers: str) -> httpx.Response:
    body = {"code": code, "message": message, "more_info": "https://x", "status": status}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "code", "kind", "retryable"),
    [
        (401, 20003, TokenInvalid, False),
        (400, 63016, WindowClosed, False),
        (400, 63003, Undeliverable, False),
        (400, 63024, Undeliverable, False),
        (400, 21211, Undeliverable, False),
        (429, 63018, RateLimited, True),
        (429, 20429, RateLimited, True),
        (400, 21617, ProviderError, False),
        (500, 20500, ProviderError, True),
    ],
)
def test_codes_decide_the_class(
    status: int, code: int, kind: type[ProviderError], retryable: bool
) -> None:
    error = error_from_response(answer(status, code))
    assert type(error) is kind and error.retryable is retryable and error.code == code


def test_429_waits_as_long_as_retry_after_says() -> None:
    error = error_from_response(answer(429, 20429, **{"Retry-After": "7"}))
    assert isinstance(error, RateLimited) and error.retry_after == 7.0


def test_503_without_a_body_is_an_outage() -> None:
    error = error_from_response(httpx.Response(503, text="down"))
    assert error.retryable and error.outage and error.code is None


def test_a_message_quoting_the_recipient_is_masked() -> None:
    quoted = f"The 'To' number whatsapp:+{CUSTOMER} is not a valid phone number."
    error = error_from_response(answer(400, 21211, quoted))
    assert CUSTOMER not in str(error)


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (63016, TEXTS.failure_twilio_window_closed),
        (63003, TEXTS.failure_not_on_whatsapp),
        (63024, TEXTS.failure_not_on_whatsapp),
        (20003, TEXTS.failure_twilio_auth),
        (63018, TEXTS.failure_rate_limit),
    ],
)
def test_twilio_codes_get_the_same_plain_words(code: int, text: str) -> None:
    assert explain.failure(code, "anything", TEXTS) == text


def test_a_closed_window_on_twilio_does_not_point_to_templates() -> None:
    """Empfang sends no templates through Twilio: Meta's advice (send one with !template)
    would end in a second refusal."""
    shown = explain.failure(63016, "anything", TEXTS)
    assert "24-hour window is closed" in shown and "!template" not in shown
