"""``empfang --version`` names the installed distribution's version."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from bot.cli import main


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"empfang {version('empfang')}\n"
