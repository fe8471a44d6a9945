"""``[ha]``: takeover_seconds bounded below, the heartbeat derived, replica names checked."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.config import load_config
from bot.config.settings import check_settings
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


def test_replicas_on_matrix_need_the_shared_access_token_and_no_encryption(
    tmp_path: Path,
) -> None:
    """A password login gives each replica a device of its own (a post retried by another
    replica could appear twice); E2EE keys are per device."""
    matrix = (
        '[matrix]\nhomeserver = "http://127.0.0.1:8008"\nuser_id = "@bot:localhost"\n'
        'room_id = "!room:localhost"\npassword = "secret"\nencryption = true\n'
        'pickle_key = "pickle-pickle-pickle"\n'
        '[privacy]\npseudonym_key = "0123456789abcdef0123"\n'
    )
    sqlite = check_settings(load_config(config(tmp_path, matrix)))
    assert not [line for line in sqlite if line.startswith("matrix.")]
    replicas = load_config(
        config(tmp_path, '[store]\nurl = "postgresql://empfang@db/empfang"\n' + matrix)
    )
    problems = check_settings(replicas)
    assert any(
        line.startswith("matrix.access_token: required with [store] url") for line in problems
    )
    assert any(line.startswith("matrix.encryption: not supported") for line in problems)
