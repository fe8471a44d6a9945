"""``check-config`` warns when ``privacy.reveal_users`` is set where no reveal can work
(Matrix with ``matrix.encryption = true``: the bot cannot encrypt for a new direct room),
and still passes: the bot runs, each ``!reveal`` is refused with a notice."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main

AGENT = "@anna:example.com"


def config(tmp_path: Path, *, encryption: bool, reveal_users: list[str]) -> Path:
    """A valid Matrix config (credentials of any shape will do offline)."""
    os.chmod(tmp_path, 0o700)
    sections: dict[str, dict[str, Any]] = {
        "store": {"path": str(tmp_path / "store" / "empfang.sqlite3")},
        "whatsapp": {
            key: "0123456789abcdef"
            for key in ("phone_number_id", "access_token", "app_secret", "verify_token")
        },
        "matrix": {
            "homeserver": "https://matrix.example.com",
            "user_id": "@empfang:example.com",
            "access_token": "syt_token",
            "room_id": "!support:example.com",
            "store_path": str(tmp_path / "matrix"),
            "encryption": encryption,
            "pickle_key": "a-long-enough-pickle-key",
        },
        "privacy": {"pseudonym_key": "a-long-enough-secret-key", "reveal_users": reveal_users},
    }
    path = tmp_path / "config.toml"
    path.write_text(
        "\n".join(
            f"[{name}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in keys.items())
            for name, keys in sections.items()
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("encryption", "reveal_users", "warned"),
    [(True, [AGENT], True), (True, [], False), (False, [AGENT], False)],
    ids=["encrypted-with-reveal-users", "encrypted-without", "plain-with-reveal-users"],
)
def test_reveal_users_in_an_encrypted_matrix_room_are_warned_about(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    encryption: bool,
    reveal_users: list[str],
    warned: bool,
) -> None:
    path = config(tmp_path, encryption=encryption, reveal_users=reveal_users)
    assert main(["check-config", "--config", str(path)]) == 0
    err = capsys.readouterr().err
    assert ("warning: privacy.reveal_users:" in err) is warned, err
    assert ("every !reveal is refused" in err) is warned
