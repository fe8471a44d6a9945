"""``empfang check-config --online`` for Slack: ask Slack whether the config works.

Offline checks only see the shape of tokens; here ``auth.test`` proves the bot token,
``apps.connections.open`` the app token (Socket Mode), the token's scopes are compared with
what the bot calls, and ``conversations.info`` / ``conversations.members`` show whether the
bot is in the channel. Problems are reported by TOML key path, like every config check.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import errors
from adapters.slack.platform import DEFAULT_API_BASE
from bot.config import SlackSection

REQUIRED_SCOPES = ("chat:write", "reactions:write", "users:read")
PUBLIC_SCOPES = ("channels:history", "channels:read")
PRIVATE_SCOPES = ("groups:history", "groups:read")
"""What the bot calls (see slack/manifest.yml); history/read scopes per channel kind."""


async def _call(method: str, call: Any) -> tuple[dict[str, Any] | None, str | None, Any]:
    """``(data, problem, response)``: Slack's error code as the problem on failure."""
    try:
        response = await call
    except errors.SLACK_ERRORS as exc:
        return None, str(errors.from_exception(method, exc)), None
    return dict(response.data), None, response


def _scopes(response: Any) -> set[str]:
    headers = dict(getattr(response, "headers", {}) or {})
    raw = next((v for k, v in headers.items() if str(k).lower() == "x-oauth-scopes"), "")
    value = raw[0] if isinstance(raw, list) and raw else raw
    return {scope.strip() for scope in str(value or "").split(",") if scope.strip()}


async def check_online(section: SlackSection) -> list[str]:
    """Every problem found, one line each; empty when Slack accepts the configuration."""
    base = section.api_base or DEFAULT_API_BASE
    client = AsyncWebClient(
        token=section.bot_token.get_secret_value(),
        base_url=base if base.endswith("/") else base + "/",
        timeout=15,
        retry_handlers=[],
    )
    auth, problem, response = await _call("auth.test", client.auth_test())
    if auth is None:
        return [f"slack.bot_token: {problem}"]
    problems = []
    app_token = section.app_token.get_secret_value()
    if app_token:
        _, problem, _ = await _call(
            "apps.connections.open", client.apps_connections_open(app_token=app_token)
        )
        if problem:
            problems.append(f"slack.app_token: {problem}")
    granted = _scopes(response)
    info, problem, _ = await _call(
        "conversations.info", client.conversations_info(channel=section.channel_id)
    )
    if info is None:
        kind = PUBLIC_SCOPES
        problems.append(f"slack.channel_id: {problem}")
    else:
        channel = info.get("channel") or {}
        kind = PRIVATE_SCOPES if channel.get("is_private") else PUBLIC_SCOPES
        problems += await _membership(client, section.channel_id, channel, str(auth["user_id"]))
    missing = [s for s in (*REQUIRED_SCOPES, *kind) if granted and s not in granted]
    if missing:
        problems.append(
            f"slack.bot_token: missing scopes {', '.join(missing)}; add them from "
            "slack/manifest.yml and reinstall the app"
        )
    return problems


async def _membership(
    client: AsyncWebClient, channel_id: str, channel: dict[str, Any], bot_user: str
) -> list[str]:
    if channel.get("is_archived"):
        return [f"slack.channel_id: channel {channel_id} is archived"]
    if channel.get("is_member"):
        return []
    members, _, _ = await _call(
        "conversations.members", client.conversations_members(channel=channel_id)
    )
    if members is not None and bot_user in (members.get("members") or []):
        return []
    name = channel.get("name") or channel_id
    return [
        f"slack.channel_id: the bot is not a member of #{name}; "
        "invite it there with /invite @Empfang"
    ]
