"""What ``check-config`` says about routing several numbers to rooms and channels."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from tests.unit.test_numbers_config import keys, problems

SLACK = '[slack]\nbot_token = "xoxb-1-2-abc"\napp_token = "xapp-1-A1-2-abc"\nchannel_id = ""\n'


def entry(number: str, **keys: str) -> str:
    lines = [f'{key} = "{value}"' for key, value in keys.items()]
    return "\n".join(["[[numbers]]", f'phone_number_id = "{number}"', *lines]) + "\n"


def test_an_entry_may_have_its_own_reply_mode(tmp_path: Path) -> None:
    assert problems(tmp_path, entry("1", reply_mode="explicit")) == []


def test_several_numbers_in_rooms_of_their_own_are_taken(tmp_path: Path) -> None:
    text = entry("1", room="!sales:example.com") + entry("2", room="!workshop:example.com")
    assert problems(tmp_path, text) == []


def test_matrix_and_slack_at_once_are_taken(tmp_path: Path) -> None:
    text = entry("1") + entry("2", platform="slack", room="C0SUPPORT01")
    assert problems(tmp_path, SLACK + text) == []


def test_a_slack_number_without_a_slack_section_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, entry("1") + entry("2", platform="slack", room="C0SUPPORT01"))
    assert "slack.bot_token" in keys(found)
    assert "slack.app_token" in keys(found)


def test_a_slack_number_without_a_channel_is_refused_by_its_key(tmp_path: Path) -> None:
    found = problems(tmp_path, SLACK + entry("1") + entry("2", platform="slack"))
    assert keys(found) == ["numbers[1].room"]
    assert "slack.channel_id" in found[0]


def test_a_channel_name_instead_of_its_id_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, SLACK + entry("1", platform="slack", room="#support"))
    assert keys(found) == ["numbers[0].room"]


def test_one_room_for_two_numbers_needs_shared_on_both(tmp_path: Path) -> None:
    text = entry("1", room="!sales:example.com") + entry("2", room="!sales:example.com")
    found = problems(tmp_path, text)
    assert keys(found) == ["numbers[1].room"]
    assert "shared = true" in found[0]
    shared = text.replace('room = "!sales', 'shared = true\nroom = "!sales')
    assert problems(tmp_path, shared) == []


def test_falling_back_to_the_global_room_counts_as_using_it(tmp_path: Path) -> None:
    found = problems(tmp_path, entry("1") + entry("2", room="!support:example.com"))
    assert keys(found) == ["numbers[1].room"]


def test_a_number_may_have_business_hours_of_its_own(tmp_path: Path) -> None:
    text = (
        entry("1")
        + entry("2", room="!sales:example.com")
        + '[numbers.business_hours]\nweekly = { saturday = ["10:00-12:00"] }\n'
        + 'out_of_hours_reply = "Samstags da"\n'
    )
    assert problems(tmp_path, text) == []
    with pytest.raises(ConfigError, match=r'numbers\.1\.business_hours\.weekly: .*"samstag"'):
        problems(tmp_path, text.replace("saturday", "samstag"))


def test_a_number_names_only_configured_case_sinks(tmp_path: Path) -> None:
    sink = '[[cases]]\ntype = "jsonl"\nname = "verkauf"\npath = "verkauf.jsonl"\n'
    text = entry("1") + entry("2", room="!sales:example.com") + 'cases = ["verkauf", "crm"]\n'
    found = problems(tmp_path, sink + text)
    assert found == ['numbers[1].cases: no [[cases]] entry is named "crm"']
