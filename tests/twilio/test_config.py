"""``[twilio]`` and ``[whatsapp] provider = "twilio"``: what check-config asks for."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import check_settings, load_config
from bot.errors import ConfigError
from tests.unit.test_config import VALID

BASE = '[whatsapp]\nprovider = "twilio"\n\n' + VALID[VALID.index("[matrix]") :]
"""A complete configuration but for the provider: Twilio, no Cloud API keys."""
TWILIO = """
[twilio]
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token_file = "{token}"
from_number = "whatsapp:+14155238886"
webhook_url = "https://empfang.example.com/webhooks/twilio"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> list[str]:
    return check_settings(load_config(_write(tmp_path, text)))


def test_complete_twilio_config_needs_no_cloud_keys(tmp_path: Path) -> None:
    token = tmp_path / "twilio-token"
    token.write_text("s3cret-auth-token\n")
    settings = load_config(_write(tmp_path, BASE + TWILIO.format(token=token)))
    assert check_settings(settings) == []
    assert settings.twilio.auth_token.get_secret_value() == "s3cret-auth-token"


def test_missing_keys_are_named(tmp_path: Path) -> None:
    problems = load(tmp_path, BASE)
    assert [p.split(":")[0] for p in problems] == [
        "twilio.account_sid",
        "twilio.auth_token",
        "twilio.from_number",
        "twilio.webhook_url",
    ]


def test_the_webhook_url_defaults_to_the_public_url(tmp_path: Path) -> None:
    text = BASE + '[server]\npublic_url = "https://empfang.example.com"\n'
    settings = load_config(_write(tmp_path, text))
    assert settings.twilio.signed_url(settings.server.public_url) == (
        "https://empfang.example.com/webhooks/twilio"
    )
    assert not any(p.startswith("twilio.webhook_url") for p in check_settings(settings))


def test_plain_http_webhook_url_is_refused(tmp_path: Path) -> None:
    text = BASE + '[twilio]\nwebhook_url = "http://empfang.example.com/webhooks/twilio"\n'
    assert any("twilio.webhook_url: must be https://" in p for p in load(tmp_path, text))


@pytest.mark.parametrize(
    ("key", "value"),
    [("from_number", "+14155238886"), ("account_sid", "AC123")],
)
def test_malformed_values_are_refused_by_key(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"twilio.{key}"):
        load_config(_write(tmp_path, BASE + f'[twilio]\n{key} = "{value}"\n'))


MIXED = VALID.replace(
    "[matrix]",
    "[[numbers]]\n"
    + 'phone_number_id = "106540352242922"\n\n'
    + "[[numbers]]\n"
    + 'provider = "twilio"\n'
    + 'from_number = "whatsapp:+14155238886"\n'
    + 'room = "!sales:example.com"\n\n[matrix]',
)
"""A Cloud number and a Twilio number (its own room), the Cloud keys set, [twilio] not."""


def test_a_cloud_and_a_twilio_number_in_one_config(tmp_path: Path) -> None:
    token = tmp_path / "twilio-token"
    token.write_text("s3cret-auth-token\n")
    settings = load_config(_write(tmp_path, MIXED + TWILIO.format(token=token)))
    assert check_settings(settings) == []
    assert [(n.provider, n.number_id) for n in settings.configured_numbers()] == [
        ("cloud", "106540352242922"),
        ("twilio", "whatsapp:+14155238886"),
    ]


def test_a_twilio_number_needs_the_twilio_account(tmp_path: Path) -> None:
    assert [p.split(":")[0] for p in load(tmp_path, MIXED)] == [
        "twilio.account_sid",
        "twilio.auth_token",
        "twilio.webhook_url",
    ]


def test_a_cloud_number_needs_the_cloud_keys_when_twilio_is_the_default(tmp_path: Path) -> None:
    token = tmp_path / "twilio-token"
    token.write_text("s3cret-auth-token\n")
    cloud_entry = '[[numbers]]\nprovider = "cloud"\nphone_number_id = "106540352242922"\n'
    twilio_entry = (
        '[[numbers]]\nfrom_number = "whatsapp:+14155238886"\nroom = "!sales:example.com"\n'
    )
    text = BASE + TWILIO.format(token=token) + cloud_entry + twilio_entry
    assert [p.split(":")[0] for p in load(tmp_path, text)] == [
        "whatsapp.access_token",
        "whatsapp.app_secret",
        "whatsapp.verify_token",
    ]


def test_cloud_and_sandbox_numbers_do_not_mix(tmp_path: Path) -> None:
    text = VALID.replace(
        "[matrix]",
        '[[numbers]]\nphone_number_id = "106540352242922"\n\n'
        '[[numbers]]\nprovider = "sandbox"\nphone_number_id = "106540352249999"\n'
        'room = "!sales:example.com"\n\n[matrix]',
    )
    assert [p for p in load(tmp_path, text) if p.startswith("numbers[1].provider")] == [
        'numbers[1].provider: "cloud" and "sandbox" numbers cannot be mixed '
        "(one Graph API per process: [whatsapp] api_base)"
    ]
