"""``[ha]``: takeover_seconds bounded below, the heartbeat derived, replica names checked."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "empfang.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_take_over_within_15_seconds_with_a_3_second_heartbeat() -> None:
    ha = load_config(None).ha
    assert ha.takeover_seconds == 15.0
    assert ha.timing.heartbeat == 3.0
    assert ha.timing.expiry + ha.timing.heartbeat <= ha.takeover_seconds
    assert ha.replica_name() == socket.gethostname()


def test_a_takeover_below_3_seconds_is_refused_by_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ha\.takeover_seconds: .*at least 3"):
        load_config(config(tmp_path, "[ha]\ntakeover_seconds = 2\n"))


def test_the_replica_name_is_checked_and_settable_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match=r"ha\.replica: .*letters, digits"):
        load_config(config(tmp_path, '[ha]\nreplica = "a b"\n'))
    monkeypatch.setenv("EMPFANG_HA__REPLICA", "empfang-2")
    assert load_config(config(tmp_path, "[ha]\ntakeover_seconds = 6\n")).ha.replica_name() == (
        "empfang-2"
    )
