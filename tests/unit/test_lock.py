"""requirements.lock (the Docker image's hash-pinned dependencies) matches pyproject.toml.

A dependency added or tightened in pyproject.toml without running ``scripts/lock`` would
make the image build fail (``--require-hashes`` refuses anything unlisted) or install a
version pyproject.toml rules out; this finds it before the image is built.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


def _pins() -> dict[str, tuple[str, int]]:
    """Package → (version, number of hashes) from the lock file."""
    pins: dict[str, tuple[str, int]] = {}
    current = ""
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match.group(1))
            pins[current] = (match.group(2), 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def test_every_runtime_dependency_is_pinned_within_its_range_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = _pins()
    assert pins and all(hashes for _, hashes in pins.values()), "every pin needs its hashes"
    stale = []
    for text in project["dependencies"]:
        requirement = Requirement(text)
        pinned = pins.get(canonicalize_name(requirement.name))
        if pinned is None or not requirement.specifier.contains(pinned[0], prereleases=True):
            stale.append(f"{text} (lock: {pinned[0] if pinned else 'missing'})")
    assert not stale, f"run scripts/lock: {stale}"
