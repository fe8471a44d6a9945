"""What ``check-config`` says about per-number keys that are built now."""

from __future__ import annotations

from pathlib import Path

from tests.unit.test_numbers_config import keys, problems


def test_an_entry_may_have_its_own_reply_mode(tmp_path: Path) -> None:
    entry = '[[numbers]]\nphone_number_id = "1"\nreply_mode = "explicit"\n'
    assert problems(tmp_path, entry) == []


def test_several_entries_are_still_refused_until_each_has_its_own_room(tmp_path: Path) -> None:
    text = '[[numbers]]\nphone_number_id = "1"\nshared = true\n'
    found = problems(tmp_path, text + text.replace('"1"', '"2"'))
    assert keys(found) == ["numbers"]
    assert "own room or channel is not built yet" in found[0]
