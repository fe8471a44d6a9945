"""X-Twilio-Signature: the documented test vector, and what is refused."""

from __future__ import annotations

import pytest

from adapters.twilio.signature import sign, verify
from bot.errors import SignatureError

URL = "https://example.com/twilio/whatsapp"
PARAMS = [
    ("To", "whatsapp:+15557654321"),
    ("Body", "Hi"),
    ("NumMedia", "0"),
    ("From", "whatsapp:+15551234567"),
    ("MessageSid", "SM00000000000000000000000000000001"),
]
VECTOR = "/28L6nJVsxjQksSXdS0tv6RhntU="
"""Fact sheet §10: token ``test_auth_token``, the URL and params above."""


def test_documented_vector_in_any_parameter_order() -> None:
    assert sign("test_auth_token", URL, PARAMS) == VECTOR
    verify("test_auth_token", URL, PARAMS, VECTOR)


@pytest.mark.parametrize(
    ("token", "url", "params", "header", "status"),
    [
        ("test_auth_token", URL, PARAMS, None, 401),
        ("test_auth_token", URL, PARAMS, "", 401),
        ("other_token", URL, PARAMS, VECTOR, 403),
        ("test_auth_token", URL + "/", PARAMS, VECTOR, 403),
        ("test_auth_token", URL, [*PARAMS, ("Extra", "1")], VECTOR, 403),
        ("test_auth_token", URL, [(k, v + " ") for k, v in PARAMS], VECTOR, 403),
        ("test_auth_token", URL, PARAMS, VECTOR.lower(), 403),
    ],
)
def test_forged_or_missing_signatures_are_refused(
    token: str, url: str, params: list[tuple[str, str]], header: str | None, status: int
) -> None:
    with pytest.raises(SignatureError) as refused:
        verify(token, url, params, header)
    assert refused.value.status == status


def test_https_url_with_explicit_port_also_matches_without_it() -> None:
    """Twilio's validators strip an https port before signing; either form is accepted."""
    with_port = "https://example.com:443/twilio/whatsapp"
    verify("test_auth_token", with_port, PARAMS, VECTOR)
    verify("test_auth_token", with_port, PARAMS, sign("test_auth_token", with_port, PARAMS))


def test_repeated_parameters_are_signed_in_sorted_value_order() -> None:
    twice = [("A", "2"), ("A", "1")]
    assert sign("t", "https://x", twice) == sign("t", "https://x", [("A", "1"), ("A", "2")])
    assert sign("t", "https://x", twice) != sign("t", "https://x", [("A", "1")])
