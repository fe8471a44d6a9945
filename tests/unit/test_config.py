"""Config: TOML + environment, secrets from files, placeholder refusal, check-config CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import check_settings, load_checked, load_config
from bot.errors import ConfigError

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"

VALID = """
[whatsapp]
provider = "cloud"
phone_number_id = "106540352242922"
access_token = "EAAG-real-looking-token"
app_secret = "0123456789abcdef"
verify_token = "my-verify-token"

[matrix]
homeserver = "https://matrix.example.com"
user_id = "@empfang:example.com"
access_token = "syt_real_token"
room_id = "!support:example.com"

[privacy]
pseudonym_key = "a-long-enough-secret-key"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_file_fails_naming_every_placeholder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    for key in (
        "whatsapp.app_secret",
        "whatsapp.access_token",
        "whatsapp.verify_token",
        "whatsapp.phone_number_id",
        "privacy.pseudonym_key",
        "matrix.room_id",
    ):
        assert f"{key}: still the example placeholder" in err


def test_valid_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(write(tmp_path, VALID))]) == 0
    assert "config OK" in capsys.readouterr().out


def test_missing_pseudonym_key_refuses_start(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('pseudonym_key = "a-long-enough-secret-key"', ""))
    with pytest.raises(ConfigError, match=r"privacy\.pseudonym_key: required"):
        load_checked(path)


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPFANG_SERVER__PORT", "9123")
    monkeypatch.setenv("EMPFANG_WHATSAPP__ACCESS_TOKEN", "from-env")
    settings = load_config(write(tmp_path, VALID))
    assert settings.server.port == 9123
    assert settings.whatsapp.access_token.get_secret_value() == "from-env"
    assert settings.whatsapp.phone_number_id == "106540352242922"  # untouched keys stay


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPFANG_CONFIG", str(write(tmp_path, VALID)))
    assert load_config().whatsapp.verify_token.get_secret_value() == "my-verify-token"


def test_secret_read_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "app_secret"
    secret.write_text("from-a-file\n", encoding="utf-8")
    text = VALID.replace('app_secret = "0123456789abcdef"', f'app_secret_file = "{secret}"')
    settings = load_config(write(tmp_path, text))
    assert settings.whatsapp.app_secret.get_secret_value() == "from-a-file"


def test_unreadable_secret_file_names_the_key(tmp_path: Path) -> None:
    text = VALID.replace('app_secret = "0123456789abcdef"', 'app_secret_file = "/nonexistent"')
    with pytest.raises(ConfigError, match=r"whatsapp: .*app_secret_file"):
        load_config(write(tmp_path, text))


def test_typo_and_wrong_type_reported_by_key_path(tmp_path: Path) -> None:
    text = VALID + '\n[server]\nprot = 80\nport = "eighty"\n'
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    message = str(info.value)
    assert "server.prot: Extra inputs are not permitted" in message
    assert "server.port:" in message


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[server\nport = 1"))


def test_plain_http_refused_except_loopback(tmp_path: Path) -> None:
    text = VALID.replace("https://matrix.example.com", "http://matrix.example.com")
    assert any(
        p.startswith("matrix.homeserver: must be https")
        for p in check_settings(load_config(write(tmp_path, text)))
    )
    text = VALID.replace("https://matrix.example.com", "http://127.0.0.1:8008")
    assert check_settings(load_config(write(tmp_path, text))) == []
