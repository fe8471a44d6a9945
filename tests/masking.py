"""How a test decides that a number leaked: five consecutive digits of it, as a reader sees them.

Privacy checklist item 4 forbids five or more consecutive digits of a number. "As a reader sees
them" means any Unicode decimal digit counts as its ASCII digit, invisible characters (zero-width,
soft hyphen, keycap marks, unassigned code points, the Hangul fillers) are not there, and
separators between digits do not break a run: any whitespace and up to three punctuation or
symbol characters (any script) or modifier letters, written here without bot.number_reading
so the check does not share the code it checks.
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
    "0176\u02d01234\u02d05678",  # MODIFIER LETTER TRIANGULAR COLON
    # second probe of 2026-12-02: enclosed and decorated digits, a separator after every digit
    "+\u2477\u247c \u2474\u247a\u2479 \u2474\u2475\u2476\u2477\u2478\u2479\u247a\u247b",  # ⑷⑼ ⑴⑺⑹ …
    "0\u2488\u248e\u248d\u2488\u2489\u248a\u248b\u248c\u248d\u248e\u248f",  # ⒈⒎⒍…
    "+\u2783\u2788 \u2780\u2786\u2785 \u2780\u2781\u2782\u2783\u2784\u2785\u2786\u2787",  # ➃➈ ➀…
    "0\u2776\u277c\u277b \u2776\u2777\u2778\u2779\u277a\u277b\u277c\u277d",  # ❶❼❻ ❶❷…
    "+\u24f8\u24fd \u24f5\u24fb\u24fa \u24f5\u24f6\u24f7\u24f8\u24f9\u24fa\u24fb\u24fc",  # ⓸⓽ ⓵…
    "\U0001f101\U0001f102\U0001f108\U0001f107 "
    "\U0001f102\U0001f103\U0001f104\U0001f105\U0001f106\U0001f107\U0001f108\U0001f109",  # 🄁🄂🄈🄇
    "0\u20221\u20227\u20226\u20221\u20222\u20223\u20224\u20225\u20226\u20227\u20228",  # 0•1•7•6…
    "0\u30fb1\u30fb7\u30fb6\u30fb1\u30fb2\u30fb3\u30fb4\u30fb5\u30fb6\u30fb7\u30fb8",  # 0・1・7…
]


def _as_read(ch: str) -> str:
    category = unicodedata.category(ch)
    if category in ("Cf", "Mn", "Me", "Cn"):
        return ""
    if category.startswith("L") and "FILLER" in unicodedata.name(ch, ""):
        return ""
    if category == "Lm":
        return "'"  # a modifier letter ("ː", "ʼ") between digits is taken for a separator
    value = unicodedata.digit(ch, None)  # any script, also circled and superscript digits
    if value is None and "DIGIT" in unicodedata.name(ch, ""):  # "🄋": a numeric value only
        value = unicodedata.numeric(ch, None)
    return ch if value is None else str(int(value))


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
