"""``empfang check-config --online`` for Slack: ask Slack whether the config works.

Offline checks only see the shape of tokens; here ``auth.test`` proves the bot token,
``apps.connections.open`` the app token (Socket Mode), the token's scopes are compared with
what the bot calls, and ``conversations.info`` / ``conversations.members`` show whether the
bot is in each channel (``slack.channel_id`` and every ``[[numbers]] room`` on Slack) and
whether that channel is private and not shared with another organisation (Slack Connect,
Slack's federation): customer conversations go into no channel anyone beyond the team can
read (``alerts.room`` may be public, alerts carry no customer content). Findings are
reported by TOML key path in the shape every platform's check shares (``bot/online.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import errors
from adapters.slack.exposure import exposure
from adapters.slack.platform import DEFAULT_API_BASE
from bot.config import SlackSection
from bot.online import OnlineReport

REQUIRED_SCOPES = ("chat:write", "reactions:write", "users:read", "files:write", "files:read")
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


async def check_online(
    section: SlackSection,
    alerts_channel: str = "",
    channels: Sequence[tuple[str, str]] = (),
    alert_channels: Sequence[tuple[str, str]] = (),
) -> OnlineReport:
    """Every finding by TOML key; ``problems`` empty when Slack accepts the configuration.

    ``channels``: the numbers' channels as ``(key, channel id)``, e.g.
    ``("numbers[1].room", "C0SALES01")``, checked like ``slack.channel_id`` (a channel
    already checked under another key is not asked about twice). ``alerts_channel``
    (``alerts.room``, optional) and ``alert_channels`` (the numbers' ``alerts_room``, as
    ``(key, channel id)``) must let the bot post as well; they may be public.
    """
    base = section.api_base or DEFAULT_API_BASE
    client = AsyncWebClient(
        token=section.bot_token.get_secret_value(),
        base_url=base if base.endswith("/") else base + "/",
        timeout=15,
        retry_handlers=[],
    )
    report = OnlineReport()
    auth, problem, response = await _call("auth.test", client.auth_test())
    if auth is None:
        report.problem("slack.bot_token", str(problem))
        return report
    report.fact("slack.bot_token", f"valid for @{auth.get('user')} in {auth.get('team')}")
    app_token = section.app_token.get_secret_value()
    if app_token:
        _, problem, _ = await _call(
            "apps.connections.open", client.apps_connections_open(app_token=app_token)
        )
        if problem:
            report.problem("slack.app_token", problem)
    granted = _scopes(response)
    bot_user = str(auth["user_id"])
    targets = [("slack.channel_id", section.channel_id)] if section.channel_id else []
    kinds: set[str] = set()
    for key, channel_id in _once([*targets, *channels]):
        channel = await _channel(client, channel_id, key, bot_user, report)
        exposed = exposure(channel, channel_id) if channel else None
        if exposed:
            report.problem(key, exposed)
        kinds.update(PRIVATE_SCOPES if channel.get("is_private") else PUBLIC_SCOPES)
    alerts = [("alerts.room", alerts_channel)] if alerts_channel else []
    for key, channel_id in _once([*alerts, *alert_channels]):
        await _channel(client, channel_id, key, bot_user, report)
    needed = [*REQUIRED_SCOPES, *sorted(kinds)]
    missing = [s for s in needed if granted and s not in granted]
    if missing:
        report.problem(
            "slack.bot_token",
            f"missing scopes {', '.join(missing)}; add them from slack/manifest.yml and "
            "reinstall the app",
        )
    return report


def _once(targets: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each channel under the first key naming it (numbers may share a channel)."""
    seen: dict[str, str] = {}
    for key, channel_id in targets:
        seen.setdefault(channel_id, key)
    return [(key, channel_id) for channel_id, key in seen.items()]


async def _channel(
    client: AsyncWebClient, channel_id: str, key: str, bot_user: str, report: OnlineReport
) -> dict[str, Any]:
    """The channel as ``conversations.info`` shows it (empty when unknown); problems under key."""
    info, problem, _ = await _call(
        "conversations.info", client.conversations_info(channel=channel_id)
    )
    if info is None:
        report.problem(key, str(problem))
        return {}
    channel: dict[str, Any] = info.get("channel") or {}
    refusal = await _membership(client, channel_id, channel, bot_user)
    if refusal:
        report.problem(key, refusal)
    return channel


async def _membership(
    client: AsyncWebClient, channel_id: str, channel: dict[str, Any], bot_user: str
) -> str | None:
    """Why the bot cannot work in the channel, or None when it can."""
    if channel.get("is_archived"):
        return f"channel {channel_id} is archived"
    if channel.get("is_member"):
        return None
    members, _, _ = await _call(
        "conversations.members", client.conversations_members(channel=channel_id)
    )
    if members is not None and bot_user in (members.get("members") or []):
        return None
    name = channel.get("name") or channel_id
    return f"the bot is not a member of #{name}; invite it there with /invite @Empfang"
