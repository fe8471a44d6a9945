"""Who beyond the support team could read a Slack channel, judged from ``conversations.info``.

``check-config --online`` refuses such a channel; ``SlackPlatform.start`` judges it again
from the same answer it reads anyway, so a channel made public or shared since the check
was run is noticed at the next start.
"""

from __future__ import annotations

from typing import Any


def exposure(channel: dict[str, Any], channel_id: str) -> str | None:
    """Who beyond the support team could read the channel, or None when nobody."""
    name = f"#{channel.get('name') or channel_id}"
    if not channel.get("is_private"):
        return (
            f"{name} is a public channel: everyone in the workspace can read customer "
            "conversations; use a private channel"
        )
    if channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"):
        return (
            f"{name} is shared with another organisation (Slack Connect): customer "
            "conversations would be copied to its workspace; use a channel of this "
            "workspace alone"
        )
    return None
