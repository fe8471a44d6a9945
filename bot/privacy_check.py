"""``check-config``'s warnings about privacy settings that cannot work as configured.

A warning, not an error: the bot runs, and what the setting asks for is refused at the
moment it is used, with a notice in the thread. The admin learns it here instead of from
an agent's first attempt.
"""

from __future__ import annotations

from bot.config import Settings


def privacy_warnings(settings: Settings) -> list[str]:
    """One line per privacy setting the configured chat cannot honour."""
    warnings = []
    matrix = settings.chat.platform == "matrix"
    if settings.privacy.reveal_users and matrix and settings.matrix.encryption:
        warnings.append(
            "privacy.reveal_users: set, but with matrix.encryption = true the bot cannot show "
            "a number to one agent alone (it cannot encrypt for a direct room it has not "
            "synced yet), so every !reveal is refused; empty the list or use an unencrypted "
            "support room"
        )
    return warnings
