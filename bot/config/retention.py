"""``[retention]``: how long each class of data is kept (Art. 5(1)(e) storage limitation).

Durations are written like ``"90d"`` (``bot.config.base.Duration``). ``privacy.retention_days``
was the one setting before; it stays as an alias of ``retention.messages`` so that existing
configurations keep their meaning, and naming both is an error, because the two could only
disagree. Which data each class holds is in README "For the data-protection officer".
"""

from __future__ import annotations

from pydantic import Field

from bot.config.base import Duration, Section

DAY = 86_400.0


class RetentionSection(Section):
    messages: Duration = Field(default=90 * DAY, gt=0)
    """Message bodies (text, captions, media metadata, locations, contact cards)."""
    media: Duration = Field(default=30 * DAY, gt=0)
    """Customers' files: their posts in the chat, the stored media reference, kept copies
    (``bot.retention``'s phase ``media``)."""
    contacts: Duration = Field(default=365 * DAY, gt=0)
    """A contact (number, profile name) after its last message in either direction."""
    closed_conversations: Duration = Field(default=90 * DAY, gt=0)
    """A closed conversation as a whole, its chat thread included, after it was closed."""


def with_alias(retention: RetentionSection, retention_days: int | None) -> RetentionSection:
    """``retention`` with ``privacy.retention_days`` applied as ``messages``."""
    if retention_days is None:
        return retention
    if "messages" in retention.model_fields_set:
        raise ValueError(
            "privacy.retention_days is the old name of retention.messages: set only"
            ' retention.messages (e.g. messages = "90d")'
        )
    return retention.model_copy(update={"messages": retention_days * DAY})


def days(seconds: float) -> str:
    """A duration as the record of processing and check-config print it."""
    whole = seconds / DAY
    return f"{whole:g} days" if whole >= 1 else f"{seconds / 3600:g} hours"
