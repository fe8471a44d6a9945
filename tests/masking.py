"""How a test decides that a number leaked: five consecutive digits of it, as a reader sees them.

Privacy checklist item 4 forbids five or more consecutive digits of a number. "As a reader sees
them" means any Unicode decimal digit counts as its ASCII digit, invisible characters (zero-width,
soft hyphen, keycap marks, unassigned code points, the Hangul fillers) are not there, and
separators between digits do not break a run: any whitespace and up to three punctuation or
symbol characters (any script), written here without bot.number_reading so the check does not
share the code it checks.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

# tests.numbers.THIRD_PARTY (+49 176 12345678) as customers, file names and links write it.
NOTATIONS = [
    "4917612345678",
    "+49 176 12345678",
    "0176_1234_5678",
    "0176\u200b1234\u200c5678",
    "0176\u00ad12345678",
    "+49\u2009176\u202f12345678",
    "０１７６ １２３４５６７８",
    "٠١٧٦١٢٣٤٥٦٧٨",
    "Angebot_0176-12345678.pdf",
    "Angebot0176-12345678",
    "wa.me/4917612345678",
    "https://wa.me/4917612345678?text=Hallo",
    "tel:+4917612345678",
    "https://wa.me/?text=Ruf%20an%200176%2012345678",
    # probe of 2026-12-02: these separators reached the chat
    "0176\u3164 12345678",  # HANGUL FILLER
    "+49\u115f176\u115f12345678",  # HANGUL CHOSEONG FILLER
    "0176\u11601234\u11605678",  # HANGUL JUNGSEONG FILLER
    "0176\uffa01234\uffa05678",  # HALFWIDTH HANGUL FILLER
    "0176\u02d71234\u02d75678",  # MODIFIER LETTER MINUS SIGN
    "0176     1234     5678",
    "0176*1234*5678",
    "0176,1234,5678",
    "0176#1234#5678",
    "0176:1234:5678",
]


def _as_read(ch: str) -> str:
    category = unicodedata.category(ch)
    if category in ("Cf", "Mn", "Me", "Cn"):
        return ""
    if category.startswith("L") and "FILLER" in unicodedata.name(ch, ""):
        return ""
    value = unicodedata.digit(ch, None)  # any script, also circled and superscript digits
    return ch if value is None else str(value)


def visible_digits(text: str) -> str:
    """``text`` with digits as ASCII, invisible characters gone and digit separators removed."""
    plain = "".join(_as_read(ch) for ch in text)
    return re.sub(r"(?<=\d)\s*(?:(?:[^\w\s]|_|%20)\s*){0,3}(?=\d)", "", plain)


def leaked_digits(text: str, e164: str) -> str | None:
    """The first five-digit piece of the number's national part that ``text`` shows, if any."""
    nsn = str(phonenumbers.national_significant_number(phonenumbers.parse("+" + e164)))
    runs = re.findall(r"\d+", visible_digits(text))
    for i in range(len(nsn) - 4):
        if any(nsn[i : i + 5] in run for run in runs):
            return nsn[i : i + 5]
    return None
