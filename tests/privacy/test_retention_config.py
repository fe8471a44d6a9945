"""``[retention]``: durations per data class; ``privacy.retention_days`` as its old name."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.errors import ConfigError

DAY = 86_400.0


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_durations_per_class(tmp_path: Path) -> None:
    path = config(tmp_path, '[retention]\nmessages = "14d"\nmedia = "36h"\ncontacts = "2d12h"\n')
    retention = load_config(path).retention
    assert (retention.messages, retention.media, retention.contacts) == (
        14 * DAY,
        36 * 3600.0,
        2.5 * DAY,
    )
    assert retention.closed_conversations == 90 * DAY, "the default"


def test_retention_days_is_the_old_name_of_messages(tmp_path: Path) -> None:
    path = config(tmp_path, "[privacy]\nretention_days = 30\n")
    assert load_config(path).retention.messages == 30 * DAY


def test_both_names_are_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config(tmp_path, '[privacy]\nretention_days = 30\n[retention]\nmessages = "14d"\n')
    with pytest.raises(ConfigError, match=r"privacy\.retention_days is the old name"):
        load_config(path)
    assert main(["check-config", "--config", str(path)]) == 2
    assert "set only retention.messages" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ['"90 days"', '"0d"', '"-1d"', '"d"'])
def test_a_bad_duration_names_its_key(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match=r"^retention\.media: "):
        load_config(config(tmp_path, f"[retention]\nmedia = {bad}\n"))
