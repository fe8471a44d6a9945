"""``check-config`` warns about folders that let other users at the store, the Matrix store or
a JSONL sink, and still passes: the bot works either way, the admin decides."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.cli import main


def _config(tmp_path: Path, store: Path, matrix: Path, jsonl: Path) -> Path:
    """A valid config (credentials of any shape will do offline) placing the three folders."""
    sections: dict[str, dict[str, str]] = {
        "store": {"path": str(store / "empfang.sqlite3")},
        "whatsapp": {
            key: "0123456789abcdef"
            for key in ("phone_number_id", "access_token", "app_secret", "verify_token")
        },
        "matrix": {
            "homeserver": "https://matrix.example.com",
            "user_id": "@empfang:example.com",
            "access_token": "syt_token",
            "room_id": "!support:example.com",
            "store_path": str(matrix),
        },
        "privacy": {"pseudonym_key": "a-long-enough-secret-key"},
    }
    lines = [
        f"[{name}]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in keys.items())
        for name, keys in sections.items()
    ]
    sink = {"type": "jsonl", "name": "archive", "path": str(jsonl / "cases.jsonl")}
    lines.append("[[cases]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in sink.items()))
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_folders_open_to_others_are_warned_about_by_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store, matrix, jsonl = (tmp_path / name for name in ("store", "matrix", "jsonl"))
    for folder, mode in ((store, 0o755), (matrix, 0o750), (jsonl, 0o705)):
        folder.mkdir()
        os.chmod(folder, mode)
    config = _config(tmp_path, store, matrix, jsonl)

    assert main(["check-config", "--config", str(config)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":", 2)[1].strip() for line in err] == [
        "store.path",
        "matrix.store_path",
        "cases[0].path",
    ]
    assert "(mode 0755)" in err[0] and f"chmod 700 {store}" in err[0]

    for folder in (store, matrix, jsonl):
        os.chmod(folder, 0o700)
    assert main(["check-config", "--config", str(config)]) == 0
    assert capsys.readouterr().err == ""


def test_folders_not_yet_created_are_not_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "not-yet"
    os.chmod(tmp_path, 0o700)
    config = _config(tmp_path, missing / "a", missing / "b", missing / "c")
    assert main(["check-config", "--config", str(config)]) == 0
    assert capsys.readouterr().err == ""
