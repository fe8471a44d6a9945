"""Who answered: ``[privacy] sign_replies`` adds a signature line to agents' text replies,
as the customer reads them (``– Anna``, ``– Anna, Kundenservice`` or ``– Kundenservice``).

Only the first word of the agent's chat display name goes out; a name that is a chat id
(``@anna:example.org``, ``U0123ABC``) is never sent, the team name stands alone then.
"""

from __future__ import annotations

import re

from bot.config import PrivacySection

_CHAT_ID = re.compile(r"^(@\S+:\S+|[UW][A-Z0-9]{6,})$")


def first_name(author_name: str) -> str:
    """The first word of a display name, or "" for a chat id or an empty name."""
    name = author_name.strip()
    if not name or _CHAT_ID.match(name):
        return ""
    return name.split()[0]


def signed(text: str, author_name: str, privacy: PrivacySection) -> str:
    """``text`` with the configured signature below it (unchanged for ``"none"``)."""
    team = privacy.team_name.strip()
    if privacy.sign_replies == "none":
        return text
    if privacy.sign_replies == "team":
        who = team
    else:
        who = ", ".join(part for part in (first_name(author_name), team) if part)
    return f"{text}\n\n– {who}" if who else text
