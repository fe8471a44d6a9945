"""README "Privacy checklist, item by item" names the tests that show each checklist item; a
renamed or deleted test would leave the officer a reference to nothing, so every name must be
a test that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADING = "### Privacy checklist, item by item"
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
ITEM = re.compile(r"\| (\d+)\. ")


def _table() -> list[tuple[int, str]]:
    """The subsection's table rows, by item number: from its heading to the next heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert HEADING in text, "the README lost its checklist subsection"
    section = text.split(HEADING, 1)[1].split("\n#", 1)[0]
    rows = [(ITEM.match(line), line) for line in section.splitlines()]
    return [(int(item.group(1)), line) for item, line in rows if item]


def test_the_table_has_one_row_per_checklist_item() -> None:
    numbers = [number for number, _ in _table()]
    assert numbers == list(range(1, 20))


def test_every_named_test_exists() -> None:
    references = [ref for _, row in _table() for ref in TEST_REF.findall(row)]
    assert len(references) > 19, "the scan finds the named tests"
    missing = []
    for path, name in references:
        source = ROOT / path
        defined = re.compile(rf"^(?:async )?def {name}\(", re.MULTILINE)
        if not source.is_file() or not defined.search(source.read_text(encoding="utf-8")):
            missing.append(f"{path}::{name}")
    assert missing == []
