"""Setting Slack up: the manifest, ``check-config`` (offline and ``--online``), start-up errors."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]
from pydantic import SecretStr

from adapters.slack import SlackPlatform
from bot.cli import main
from bot.config import Settings, SlackSection, check_settings
from bot.errors import PlatformError
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, CHANNEL, FakeSlack
from tests.fakes.slack_wire import MANIFEST

GOOD = {"bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "channel_id": CHANNEL}


def test_manifest_requests_exactly_what_the_bot_uses() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text("utf-8"))
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "chat:write",
        "reactions:write",
        "channels:history",
        "groups:history",
        "channels:read",
        "groups:read",
        "users:read",
    }
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["message.channels", "message.groups"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    # The fake grants exactly these scopes, so every other test proves they suffice.
    assert FakeSlack().scopes == frozenset(manifest["oauth_config"]["scopes"]["bot"])


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"bot_token": "xoxp-user-token"}, "slack.bot_token: must be the Bot User OAuth Token"),
        (
            {"app_token": BOT_TOKEN},
            "slack.app_token: must be an app-level token (starts with xapp-",
        ),
        ({"channel_id": "#support"}, "slack.channel_id: must be a channel id like C0123ABCDE"),
        ({"channel_id": "C123"}, "slack.channel_id: must be a channel id"),
        ({"app_token": ""}, "slack.app_token: required for Socket Mode (or slack.signing_secret)"),
    ],
)
def test_check_config_reports_slack_key_shapes(
    make_settings: Callable[..., Settings], values: dict[str, str], problem: str
) -> None:
    settings = make_settings(chat={"platform": "slack"}, slack={**GOOD, **values})
    problems = check_settings(settings)
    assert [p for p in problems if p.startswith("slack.")] == [
        p for p in problems if p.startswith(problem)
    ]
    assert any(p.startswith(problem) for p in problems)


def test_check_config_accepts_good_slack_keys(make_settings: Callable[..., Settings]) -> None:
    for extra in ({}, {"app_token": "", "signing_secret": "abc"}, {"channel_id": "G0PRIVATE1"}):
        settings = make_settings(chat={"platform": "slack"}, slack={**GOOD, **extra})
        assert check_settings(settings) == []


def _config(path: Path, fake: FakeSlack, **slack: str) -> Path:
    values = {**GOOD, "api_base": fake.api_base, **slack}
    lines = "\n".join(f'{key} = "{value}"' for key, value in values.items())
    path.write_text(
        f"""
[server]
host = "127.0.0.1"
[whatsapp]
provider = "sandbox"
phone_number_id = "106540352242922"
access_token = "sandbox-access-token"
app_secret = "sandbox-app-secret"
verify_token = "sandbox-verify-token"
[chat]
platform = "slack"
[slack]
{lines}
[privacy]
pseudonym_key = "test-pseudonym-key-0123456789"
""",
        encoding="utf-8",
    )
    return path


async def _check_online(config: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return main(["check-config", "--config", str(config), "--online"])

    code = await asyncio.to_thread(run)
    return code, out.getvalue() + err.getvalue()


async def test_check_config_online(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        code, output = await _check_online(_config(tmp_path / "ok.toml", fake))
        assert (code, output.strip()) == (0, "config OK")

        code, output = await _check_online(
            _config(tmp_path / "bad.toml", fake, bot_token="xoxb-revoked")
        )
        assert code == 2
        assert output.strip() == "slack.bot_token: Slack auth.test failed: invalid_auth"

        code, output = await _check_online(
            _config(tmp_path / "app.toml", fake, app_token="xapp-1-wrong")
        )
        assert "slack.app_token: Slack apps.connections.open failed: invalid_auth" in output

    async with FakeSlack(bot_in_channel=False) as fake:
        code, output = await _check_online(_config(tmp_path / "out.toml", fake))
        assert code == 2
        assert "slack.channel_id: the bot is not a member of #support" in output

    async with FakeSlack(scopes={"chat:write", "channels:read"}) as fake:
        code, output = await _check_online(_config(tmp_path / "scopes.toml", fake))
        assert code == 2
        assert (
            "slack.bot_token: missing scopes reactions:write, users:read, channels:history"
            in output
        )


async def test_start_refuses_a_bot_outside_the_channel() -> None:
    async def ignore(event: object) -> None:
        return None

    async with FakeSlack(bot_in_channel=False) as fake:
        section = SlackSection(
            bot_token=SecretStr(BOT_TOKEN),
            app_token=SecretStr(APP_TOKEN),
            channel_id=CHANNEL,
            api_base=fake.api_base,
        )
        platform = SlackPlatform(section)
        with pytest.raises(PlatformError, match="invite it there") as refused:
            await platform.start(ignore)
        assert refused.value.retryable is False
        await platform.stop()

        bad = SlackPlatform(section.model_copy(update={"bot_token": SecretStr("xoxb-nope")}))
        with pytest.raises(PlatformError, match="invalid_auth"):
            await bad.start(ignore)
