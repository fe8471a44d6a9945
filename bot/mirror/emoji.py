"""Whether a reaction is an emoji WhatsApp can show (it refuses anything else)."""

from __future__ import annotations

import unicodedata

MAX_CODE_POINTS = 16
"""Family and flag sequences are long; anything longer is text, not one emoji."""
_JOINERS = frozenset({"\u200d", "\ufe0f", "\ufe0e", "\u20e3"})
_KEYCAP_BASES = frozenset("0123456789#*")


def is_emoji(text: str) -> bool:
    """One emoji (with its modifiers, joiners and variation selectors), nothing else.

    Matrix reactions are free text ("+1", "lol") and must not reach a customer as a
    reaction; a keycap digit counts only with its keycap mark."""
    if not text or len(text) > MAX_CODE_POINTS:
        return False
    symbols = 0
    for char in text:
        category = unicodedata.category(char)
        if category == "So":
            symbols += 1
        elif char in _JOINERS or category == "Sk" or 0xE0020 <= ord(char) <= 0xE007F:
            continue  # skin tones, ZWJ, variation selectors, keycap, flag tags
        elif char in _KEYCAP_BASES and "\u20e3" in text:
            symbols += 1
        else:
            return False
    return symbols > 0
