"""How a reader reads a number in text: which characters are digits, which separate digit
groups, and which are not there at all.

One definition for both places that keep numbers out of sight, the chat's masker
(:mod:`bot.privacy`) and the log's (:mod:`bot.logfilter`). A customer, or someone probing, can
put any character between the digit groups; a hand list of separators always misses one (the
Hangul fillers and a modifier-letter minus got through), so separators are decided by Unicode
properties:

* **digits**: any character with a Unicode digit value (:func:`digit_of`), not only the
  decimal ones: "⑴", "⒈", "❶", "🄁" and superscripts read as the digit they show;
* **invisible** (dropped from the view): format characters (Cf: zero-width, soft hyphen, bidi
  marks, tags, BOM), combining marks (Mn, Me: keycaps, variation selectors, U+034F), code
  points this Python's Unicode does not know (Cn: the reserved default-ignorable ranges render
  as nothing), and letters named FILLER: the Hangul fillers U+115F, U+1160, U+3164, U+FFA0
  are Default_Ignorable_Code_Point, a property ``unicodedata`` does not expose;
* **layout** separators: any run of whitespace, dashes (category Pd, and every punctuation or
  symbol whose name says MINUS, HYPHEN or DASH: U+2212, U+02D7, U+2796 …), dots, '/', '(' and
  ')'. The view writes the odd ones as ' ', '-' or '.', which libphonenumber also reads;
* **marks**: any other punctuation or symbol (Unicode P and S: '*', '#', ',', ':', '~', emoji …)
  except '+', which starts a number, and modifier letters (Lm: "ː", "ʼ", "ˌ"). A mark also
  appears in amounts, times and lists ("1,234,567", "12:30"), so detectors that join groups
  across marks accept the result only if libphonenumber holds the joined digits valid (or they
  are the sender's own).

Other letters are never separators.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

# One URL-escaped character: an ASCII byte or a whole UTF-8 sequence ("%E2%80%8B" is U+200B).
_H = "[0-9A-Fa-f]"
_C = f"%[89ABab]{_H}"
_URL_ESCAPED: Final = f"%[0-7]{_H}|%[C-Dc-d]{_H}{_C}|%[Ee]{_H}{_C}{_C}|%[Ff][0-7]{_C}{_C}{_C}"
# What a view may have to rewrite: anything outside ASCII, the ASCII information separators
# (whitespace to Python, not to libphonenumber) and URL escapes.
REWRITTEN: Final = rf"[^\x00-\x7f]|[\x1c-\x1f]|{_URL_ESCAPED}"

_INVISIBLE: Final = frozenset({"Cf", "Mn", "Me", "Cn"})
# Dots people put between digit groups; not '•', which is what a masked number is made of.
_DOTS: Final = frozenset("·‧∙⁃")
_DASH_NAME = re.compile(r"MINUS|HYPHEN|DASH")

# A mark between digit groups, in a view: any punctuation or symbol (a non-word character)
# that is neither whitespace, nor '+', nor a control character. '_' is a word character to
# ``re``; the chat's view reads it as a space, the log masker adds it.
MARK: Final = r"[^\w\s+\x00-\x1f\x7f-\x9f]"
# What a modifier letter (category Lm: "ː", "ʼ", "ˌ", the katakana "ー") reads as: a mark.
# Between digits ("0176ː9876ː5432") it is used as a separator, and a privacy officer would
# rather mask a number too many; like any mark it joins groups in the chat only where
# libphonenumber holds the joined digits valid. In a word it stands between letters, where
# no number is read.
MODIFIER_MARK: Final = "'"
LAYOUT_MARK: Final = r"[-./()]"


def gap(mark: str = MARK, most: int = 3) -> str:
    """What may stand between two digits of one number: any whitespace and up to ``most`` marks.

    Whitespace is not counted: "0151     1234" is as readable as "0151 1234".
    """
    return rf"\s*(?:{mark}\s*){{0,{most}}}"


def separator(mark: str = MARK) -> str:
    """One character that separates digit groups (for lookarounds)."""
    return rf"(?:\s|{mark})"


def is_invisible(ch: str) -> bool:
    """Format characters, combining marks, unknown code points and the Hangul fillers."""
    category = unicodedata.category(ch)
    return category in _INVISIBLE or (category[0] == "L" and "FILLER" in unicodedata.name(ch, ""))


def digit_of(ch: str) -> str | None:
    """The ASCII digit ``ch`` shows, if any: any character with a Unicode digit value.

    Not only the decimal ones (what ``re``'s ``\\d`` knows): circled, parenthesised ("⑴"),
    with a full stop ("⒈") or a comma ("🄁"), dingbat and negative circled ("➀", "❶") and
    superscript digits all read as the digit they show. "⑽" (ten) has no single digit value.
    Two digits Unicode gives only a numeric value, the dingbat circled sans-serif zeros ("🄋",
    "🄌"), are read by that value: a character named DIGIT whose value is one.
    """
    value = unicodedata.digit(ch, None)
    if value is None and "DIGIT" in unicodedata.name(ch, ""):
        numeric = unicodedata.numeric(ch, None)
        if numeric is not None and numeric in range(10):
            value = int(numeric)
    return None if value is None else str(value)


@functools.lru_cache(maxsize=2048)
def plain_char(ch: str) -> str:
    """One non-ASCII character as a number reader sees it: a digit, a separator, nothing.

    A digit is :func:`digit_of`; a modifier letter is :data:`MODIFIER_MARK`.
    """
    digit = digit_of(ch)
    if digit is not None:
        return digit
    if is_invisible(ch):
        return ""
    category = unicodedata.category(ch)
    name = unicodedata.name(ch, "")
    if ch.isspace():
        return " "
    if ch in _DOTS:
        return "."
    if category == "Pd" or (category[0] in "PS" and _DASH_NAME.search(name)):
        return "-"
    if category == "So":
        return " "  # "0176📞3344556": an emoji between the groups
    if category == "Lm":
        return MODIFIER_MARK
    # Full-width '+', '(' and '/' fold to ASCII.
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 and folded.isascii() else ch


def plain(special: str) -> str:
    """A match of :data:`REWRITTEN` as a reader sees it.

    A URL escape of a control character is left alone: no text means one, and "0151%1234"
    reads as digits with a '%' between them.
    """
    if special[0] != "%":
        return plain_char(special)
    try:
        decoded = bytes.fromhex(special.replace("%", "")).decode("utf-8")
    except UnicodeDecodeError:
        return special
    if decoded.isascii():
        return decoded if decoded.isprintable() or decoded.isspace() else special
    return plain_char(decoded)


@dataclass(frozen=True, slots=True)
class View:
    """The text a masker reads, and where each of its characters came from.

    ``starts[i]``/``ends[i]`` are the original range of view character ``i``; both are None
    when nothing needed rewriting (the common case, kept free of per-character lists).
    """

    text: str
    starts: Sequence[int] | None = None
    ends: Sequence[int] | None = None

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The range of the original text, swallowing invisible characters inside it."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def rewrite(text: str, special: re.Pattern[str], plain_of: Callable[[str], str]) -> View:
    """The view of ``text`` with each match of ``special`` replaced by ``plain_of(match)``."""
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    for m in special.finditer(text):
        plain_text = plain_of(m.group())
        if plain_text == m.group():
            continue  # an umlaut or an emoji: copied with the run around it
        begin, end = m.span()
        parts.append(text[pos:begin])
        starts.extend(range(pos, begin))
        ends.extend(range(pos + 1, begin + 1))
        parts.append(plain_text)
        starts.extend([begin] * len(plain_text))
        ends.extend([end] * len(plain_text))
        pos = end
    if not parts:
        return View(text)
    parts.append(text[pos:])
    starts.extend(range(pos, len(text)))
    ends.extend(range(pos + 1, len(text) + 1))
    return View("".join(parts), starts, ends)
