"""Every URL Empfang sends data to is https:// (plain http only for loopback test targets):
privacy checklist item 9, Art. 32."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError


@pytest.mark.parametrize(
    ("table", "key", "path"),
    [
        ("[slack]", "api_base", "slack.api_base"),
        ("[alerts.webhook]", "url", "alerts.webhook.url"),
    ],
)
def test_plain_http_to_another_host_is_refused_by_key(
    tmp_path: Path, table: str, key: str, path: str
) -> None:
    config = tmp_path / "empfang.toml"
    config.write_text(f'{table}\n{key} = "http://events.example.com/v2"\n')
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    assert path in str(refused.value) and "https://" in str(refused.value)


@pytest.mark.parametrize("url", ["https://events.example.com/v2", "http://127.0.0.1:8085/v2", ""])
def test_tls_or_loopback_or_unset_is_accepted(tmp_path: Path, url: str) -> None:
    config = tmp_path / "empfang.toml"
    config.write_text(f'[slack]\napi_base = "{url}"\n[alerts.webhook]\nurl = "{url}"\n')
    load_config(config)
