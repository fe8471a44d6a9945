"""``[[numbers]]``: the implicit entry, fallbacks, and what check-config refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import check_settings, load_config
from bot.errors import ConfigError
from tests.unit.test_config import VALID

COMMON = VALID.replace('phone_number_id = "106540352242922"\n', "")
"""A complete single-number configuration whose number is left to ``[[numbers]]``."""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text(COMMON + text, encoding="utf-8")
    return check_settings(load_config(path))


def keys(found: list[str]) -> list[str]:
    return [line.split(":", 1)[0] for line in found]


def test_without_numbers_the_whatsapp_section_is_the_one_number(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMON.replace("[whatsapp]\n", '[whatsapp]\nphone_number_id = "111"\n'))
    settings = load_config(path)
    (number,) = settings.configured_numbers()
    assert (number.number_id, number.provider, number.platform, number.room) == (
        "111",
        "cloud",
        "matrix",
        "!support:example.com",
    )
    assert check_settings(settings) == []


def test_one_entry_names_the_number_instead(tmp_path: Path) -> None:
    assert problems(tmp_path, '[[numbers]]\nphone_number_id = "222"\nname = "Werkstatt"\n') == []


def test_unknown_platform_is_refused_by_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"numbers\.0\.platform"):
        problems(tmp_path, '[[numbers]]\nphone_number_id = "1"\nplatform = "teams"\n')


def test_duplicate_ids_and_a_shared_room_without_shared(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        '[[numbers]]\nphone_number_id = "1"\n[[numbers]]\nphone_number_id = "1"\n',
    )
    assert "numbers[1].phone_number_id: the same number as numbers[0]" in found
    assert any(
        line.startswith("numbers[1].room: also the matrix target of numbers[0]") for line in found
    )


def test_shared_on_both_allows_the_same_room(tmp_path: Path) -> None:
    text = '[[numbers]]\nphone_number_id = "1"\nshared = true\n'
    assert problems(tmp_path, text + text.replace('"1"', '"2"')) == []


def test_each_entry_names_its_number_as_its_provider_does(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        '[[numbers]]\nfrom_number = "whatsapp:+14155238886"\n'
        '[[numbers]]\nprovider = "twilio"\nphone_number_id = "3"\n',
    )
    assert "numbers[0].from_number" in keys(found)
    assert "numbers[1].phone_number_id" in keys(found)


def test_a_room_of_its_own_is_taken(tmp_path: Path) -> None:
    assert (
        problems(tmp_path, '[[numbers]]\nphone_number_id = "1"\nroom = "!sales:example.com"\n')
        == []
    )


def test_malformed_twilio_sender_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"numbers\.0"):
        problems(tmp_path, '[[numbers]]\nfrom_number = "+14155238886"\n')
