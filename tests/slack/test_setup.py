"""Setting Slack up: the manifest, ``check-config``, start-up errors.

``check-config --online`` is tested with the other platforms in
``tests/integration/test_online_check.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml  # type: ignore[import-untyped]
from pydantic import SecretStr

from adapters.slack import SlackPlatform
from bot.config import Settings, SlackSection, check_settings
from bot.errors import PlatformError
from bot.texts import ENGLISH
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, CHANNEL, FakeSlack
from tests.fakes.slack_wire import MANIFEST

GOOD = {"bot_token": BOT_TOKEN, "app_token": APP_TOKEN, "channel_id": CHANNEL}


def test_manifest_requests_exactly_what_the_bot_uses() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text("utf-8"))
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "chat:write",
        "reactions:write",
        "reactions:read",
        "channels:history",
        "groups:history",
        "channels:read",
        "groups:read",
        "users:read",
        "files:write",
        "files:read",
    }
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == [
        "message.channels",
        "message.groups",
        "reaction_added",
        "reaction_removed",
    ]
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
        platform = SlackPlatform(section, texts=ENGLISH)
        with pytest.raises(PlatformError, match="invite it there") as refused:
            await platform.start(ignore)
        assert refused.value.retryable is False
        await platform.stop()

        bad_token = section.model_copy(update={"bot_token": SecretStr("xoxb-nope")})
        bad = SlackPlatform(bad_token, texts=ENGLISH)
        with pytest.raises(PlatformError, match="invalid_auth"):
            await bad.start(ignore)
