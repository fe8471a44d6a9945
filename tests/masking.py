"""How a test decides that a number leaked: five consecutive digits of it, as a reader sees them.

Privacy checklist item 4 forbids five or more consecutive digits of a number. "As a reader sees
them" means any Unicode decimal digit counts as its ASCII digit, invisible characters (zero-width,
soft hyphen, keycap marks) are not there, and separators between digits do not break a run.
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
]


def _as_read(ch: str) -> str:
    if unicodedata.category(ch) in ("Cf", "Mn", "Me"):
        return ""
    value = unicodedata.digit(ch, None)  # any script, also circled and superscript digits
    return ch if value is None else str(value)


def visible_digits(text: str) -> str:
    """``text`` with digits as ASCII, invisible characters gone and digit separators removed."""
    plain = "".join(_as_read(ch) for ch in text)
    return re.sub(r"(?<=\d)(?:[\s_\-./()+]|%20)+(?=\d)", "", plain)


def leaked_digits(text: str, e164: str) -> str | None:
    """The first five-digit piece of the number's national part that ``text`` shows, if any."""
    nsn = str(phonenumbers.national_significant_number(phonenumbers.parse("+" + e164)))
    runs = re.findall(r"\d+", visible_digits(text))
    for i in range(len(nsn) - 4):
        if any(nsn[i : i + 5] in run for run in runs):
            return nsn[i : i + 5]
    return None
