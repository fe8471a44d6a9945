"""Slack chat platform: slack-bolt ``AsyncApp``, Socket Mode or HTTP Events API."""

from adapters.slack.platform import SlackPlatform

__all__ = ["SlackPlatform"]
