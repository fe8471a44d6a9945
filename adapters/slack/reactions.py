"""Reactions on Slack (``bot.mirror``): emoji ↔ Slack's reaction names, and agents'
``reaction_added`` / ``reaction_removed`` events as ``AgentReaction``s.

Slack names its reactions (``thumbsup``), WhatsApp takes the emoji itself (👍). The table
holds the common ones; a name it lacks (a custom workspace emoji, a rare one) reaches the
relay without an emoji and the thread says why nothing was sent. Skin tones
(``::skin-tone-2`` … ``-6``) map to the emoji's modifier.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bot.ids import ChatMessageId

EMOJI: dict[str, str] = {
    "+1": "👍",
    "thumbsup": "👍",
    "-1": "👎",
    "thumbsdown": "👎",
    "heart": "❤️",
    "joy": "😂",
    "open_mouth": "😮",
    "cry": "😢",
    "pray": "🙏",
    "smile": "😄",
    "smiley": "😃",
    "grinning": "😀",
    "slightly_smiling_face": "🙂",
    "blush": "😊",
    "wink": "😉",
    "heart_eyes": "😍",
    "thinking_face": "🤔",
    "sweat_smile": "😅",
    "rolling_on_the_floor_laughing": "🤣",
    "neutral_face": "😐",
    "confused": "😕",
    "disappointed": "😞",
    "rage": "😡",
    "scream": "😱",
    "sob": "😭",
    "wave": "👋",
    "clap": "👏",
    "raised_hands": "🙌",
    "ok_hand": "👌",
    "muscle": "💪",
    "point_up": "☝️",
    "handshake": "🤝",
    "fire": "🔥",
    "100": "💯",
    "tada": "🎉",
    "star": "⭐",
    "sparkles": "✨",
    "rocket": "🚀",
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "warning": "⚠️",
    "question": "❓",
    "exclamation": "❗",
    "eyes": "👀",
    "bulb": "💡",
    "calendar": "📅",
    "package": "📦",
    "truck": "🚚",
    "phone": "☎️",
    "email": "📧",
    "moneybag": "💰",
    "gift": "🎁",
    "coffee": "☕",
    "sunny": "☀️",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "broken_heart": "💔",
    "blue_heart": "💙",
    "green_heart": "💚",
    "yellow_heart": "💛",
    "purple_heart": "💜",
}
"""Slack reaction names → emoji. Several names may share an emoji; the first is Slack's."""

NAMES: dict[str, str] = {
    form: name
    for name, emoji in reversed(EMOJI.items())  # reversed: the first name wins
    for form in (emoji, emoji.replace("\ufe0f", ""))  # with or without VS16
}
"""Emoji → the Slack name the bot reacts with."""

_SKIN_TONES = {str(tone): chr(0x1F3FB + tone - 2) for tone in range(2, 7)}
REACTION_EVENTS = frozenset({"reaction_added", "reaction_removed"})


def emoji_for(name: str) -> str | None:
    """The emoji for a Slack reaction name (``thumbsup::skin-tone-3`` → 👍🏼); None if
    the table lacks it."""
    base, _, modifier = name.partition("::")
    emoji = EMOJI.get(base)
    if emoji is None:
        return None
    tone = _SKIN_TONES.get(modifier.removeprefix("skin-tone-")) if modifier else None
    return emoji.replace("\ufe0f", "") + tone if tone else emoji


def name_for(emoji: str) -> str | None:
    """The Slack name to show a customer's emoji with; None when the table lacks it. A
    skin tone is dropped (Slack adds tones only to its own reactions' names)."""
    plain = "".join(ch for ch in emoji if not 0x1F3FB <= ord(ch) <= 0x1F3FF)
    return NAMES.get(plain) or NAMES.get(plain.replace("\ufe0f", ""))


@dataclass(frozen=True)
class ParsedReaction:
    """A ``reaction_added`` / ``reaction_removed`` on a message in one of the bot's channels."""

    channel_id: str
    reaction_id: str
    target_id: ChatMessageId
    name: str
    user_id: str
    removed: bool


def parse_reaction(event: dict[str, Any], channels: Collection[str]) -> ParsedReaction | None:
    """None for reactions elsewhere (other channels, files) or without a user. The id is
    built from message, user and name: Slack gives a reaction none, and one person has each
    name at most once on a message, so the removal names the same reaction. A message
    ``ts`` is unique only within its channel: the platform qualifies the id like the
    message's (``chat_ids``)."""
    kind, item = event.get("type"), event.get("item")
    if kind not in REACTION_EVENTS or not isinstance(item, dict):
        return None
    ts, user, name = item.get("ts"), event.get("user"), event.get("reaction")
    channel = item.get("channel")
    if item.get("type") != "message" or channel not in channels:
        return None
    if not isinstance(ts, str) or not isinstance(user, str) or not isinstance(name, str):
        return None
    return ParsedReaction(
        channel_id=str(channel),
        reaction_id=f"{ts}:{user}:{name}",
        target_id=ChatMessageId(ts),
        name=name,
        user_id=user,
        removed=kind == "reaction_removed",
    )
