"""Paths named in the code's docstrings and comments exist in this repository.

A reader (or an admin reading a traceback) can only follow a reference that ships with the
code: a path on a developer's machine, or a file that was renamed, sends them nowhere.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATH_LIKE = re.compile(
    r"(?<![\w/.:-])((?:\.\.?/|/)?[\w.-]+(?:/[\w.-]+)+\.(?:py|md|toml|ya?ml|sh|lua|json|txt))\b"
)


def _references() -> list[tuple[str, str]]:
    found = []
    for folder in ("bot", "adapters", "tests", "bench"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for match in PATH_LIKE.finditer(line):
                    where = f"{path.relative_to(ROOT)}:{number}"
                    found.append((where, match.group(1)))
    return found


def test_every_named_path_is_a_file_of_this_repository() -> None:
    references = _references()
    seen = {(where.split(":")[0], ref) for where, ref in references}
    assert ("adapters/slack/online.py", "slack/manifest.yml") in seen  # the scan sees refs
    outside = [
        (where, ref)
        for where, ref in references
        if ref.startswith(("/", "../")) or not (ROOT / ref).exists()
    ]
    assert outside == []
