"""File names as agents and customers may see them: no phone number, otherwise readable.

People name files after whom they concern: ``Rechnung_0171234567.pdf``,
``Angebot_0176-3344556.pdf``, ``Scan_01763344556.pdf``. The text masking
(:mod:`bot.privacy`) reads a number after "Rechnung" as an invoice number and a number that
is one digit short as no number at all, which is right in a sentence and wrong in a file
name, where nobody writes an invoice number without saying so. So a name is masked twice:
first like any customer text (real numbers shown the usual way, country code and last
digits), then every run of six or more digits left over is masked as well, unless it is a
date (``IMG-20240312-WA0001.jpg`` stays as it is).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

from bot import privacy
from bot.number_reading import MARK, MODIFIER_MARK, digit_of, gap, is_invisible

_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
# Digit groups split by whitespace and up to two marks (bot.number_reading), '_' among them.
_MARK = rf"(?:{MARK}|_)"
_RUN = re.compile(rf"\+?\d(?:{gap(_MARK, 2)}\d){{5,}}")
_DATE = re.compile(r"(?:19|20)\d\d([-.]?)(?:0[1-9]|1[0-2])(?:\1(?:0[1-9]|[12]\d|3[01]))?(?![\d])")
_SEPARATOR = re.compile(rf"(?:\s|{_MARK})+")
_LETTER_BETWEEN_DIGITS = re.compile(r"(?<=\d)[^\W\d_](?=\d)")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")
MAX_LENGTH = 200
"""Longer names are cut (keeping the extension): chat clients and file systems choke."""


class TextMasker(Protocol):
    """What :class:`bot.render.Masker` offers: one customer's text, numbers masked."""

    @property
    def visible_digits(self) -> int: ...

    def text(self, text: str, *, every_digit_run: bool = False) -> str: ...


def mask_filename(name: str, masker: TextMasker) -> str:
    """``name`` with every phone number masked, path separators and control characters
    replaced, the extension kept."""
    clean = _UNSAFE.sub("_", _visible(name)).strip() or "file"
    found = _EXTENSION.search(clean)
    extension = found.group() if found else ""
    stem = clean[: len(clean) - len(extension)]
    masked = _RUN.sub(lambda run: _mask_run(run.group(), masker), masker.text(stem))
    return masked[: MAX_LENGTH - len(extension)] + extension


def _visible(name: str) -> str:
    """Compatibility forms folded (full-width digits are digits), every character with a digit
    value read as that digit ("❶" has no compatibility form) and invisible characters
    dropped: a zero-width space or a Hangul filler inside a number must not hide it, and no
    file needs one. Combining marks (Mn) stay: after NFKC, those left belong to the letter
    before them. So do code points this Python's Unicode does not know (Cn: a newer emoji or
    script); between digits they are marks to :data:`_RUN` and invisible to the text masker.
    A modifier letter between two digits is written as the mark it is read as."""
    folded = unicodedata.normalize("NFKC", name)
    kept = ("Mn", "Cn")
    visible = "".join(
        digit_of(ch) or ch
        for ch in folded
        if not is_invisible(ch) or unicodedata.category(ch) in kept
    )
    return _LETTER_BETWEEN_DIGITS.sub(_modifier_as_mark, visible)


def _modifier_as_mark(letter: re.Match[str]) -> str:
    """A modifier letter between digits ("0176ː1234") is a mark, as in the text masker."""
    is_modifier = unicodedata.category(letter.group()) == "Lm"
    return MODIFIER_MARK if is_modifier else letter.group()


def _mask_run(run: str, masker: TextMasker) -> str:
    """A run of digits masked, unless it is a date; a date at its start stays readable and
    the rest is looked at on its own (``20240312_123456``)."""
    date = _DATE.match(run)
    if date is not None:
        gap = _SEPARATOR.match(run, date.end())
        if date.end() == len(run) or gap is None:
            return run if date.end() == len(run) else _masked(run, masker)
        rest = run[gap.end() :]
        if _RUN.fullmatch(rest) is None:
            return run
        return run[: gap.end()] + _mask_run(rest, masker)
    return _masked(run, masker)


def _masked(run: str, masker: TextMasker) -> str:
    digits = "".join(ch for ch in run if ch.isdigit())
    return privacy.Span(0, len(run), digits).render(masker.visible_digits)
