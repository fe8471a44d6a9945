"""Pseudonyms, masked numbers and redaction of phone numbers inside free text.

Everything an agent sees about a customer passes through here (via ``render.py``), so the rules
of README's "Nothing leaked" live in one place:

* a pseudonym is a *keyed* MAC of the stable id: plain or publicly salted hashes of phone
  numbers can be reversed by tabulating the whole number space;
* a masked number shows the country code and the last few digits only;
* numbers inside text are found in three passes, each a :class:`NumberDetector`:

  1. :class:`SenderNumberDetector` matches the sender's own digits in any common notation, so
     typos and odd separators that a parser rejects are still caught;
  2. :class:`PhoneNumberMatcherDetector` runs libphonenumber's matcher with ``Leniency.VALID``
     (``POSSIBLE`` flags dates, postcodes and IBAN fragments), then drops candidates that
     overlap dates, times, amounts, IBANs, ISBNs, postcodes or follow an order/invoice/customer
     number keyword, because libphonenumber accepts e.g. ``03.04.2023`` as a German number;
  3. :class:`DigitRunDetector` catches what the matcher skips by design: numbers glued to
     words (``Angebot0176-…``, ``wa.me/49…``), two numbers run together, and international
     numbers written without '+' or '00' (``4917698765432``, the way WhatsApp writes wa_ids),
     each validated against its country code;
  4. :class:`ContextualNumberDetector` masks digit runs right after words such as "Tel." or
     "Handy", which catches numbers that are not valid (a digit missing) but clearly meant as
     phone numbers.

  The passes run in that order; an earlier span wins over an overlapping later one, and a
  later pass sees the text with earlier spans blanked out (:func:`find_numbers`).

* detectors read a *normalised view* of the text (:func:`normalise`): invisible characters
  (zero-width, soft hyphen, keycap marks, Hangul fillers) dropped, any Unicode decimal digit as
  ASCII, odd spaces, dashes, ``_``, URL-encoded separators and a '+' standing for a space in a
  query string as plain separators. Spans map back to the original, which is what gets masked,
  so a number cannot hide behind a character the reader does not see. Which characters are
  digits, separators or invisible is :mod:`bot.number_reading`'s rule, shared with the log
  masker: between two digits of a number stand any whitespace and up to three punctuation or
  symbol characters; joins across marks other than dashes, dots, slashes and parentheses
  count only where libphonenumber holds the result valid.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import phonenumbers

from bot.errors import ConfigError
from bot.number_reading import (
    LAYOUT_MARK,
    MARK,
    REWRITTEN,
    View,
    gap,
    plain,
    rewrite,
    separator,
)

PSEUDONYM_VERSION: Final = 1
PSEUDONYM_PREFIX: Final = "K-"
PSEUDONYM_LENGTH: Final = 8
MIN_KEY_BYTES: Final = 16
DEFAULT_REGION: Final = "DE"
DEFAULT_VISIBLE_DIGITS: Final = 2
MAX_VISIBLE_DIGITS: Final = 4
BULLET: Final = "•"

_PHONE_E164 = phonenumbers.PhoneNumberFormat.E164


class PseudonymKeyError(ConfigError):
    """The pseudonym key is missing or too short to stop anyone tabulating all numbers."""


# ---------------------------------------------------------------------------------------------
# Pseudonyms
# ---------------------------------------------------------------------------------------------

_PHONE_LIKE_ID = re.compile(r"\+?\d[\d\s]*")


def _normalise_stable_id(stable_id: str) -> str:
    """Make "+49 151…" and "49151…" one person: wa_ids arrive without '+', admins type with."""
    stripped = stable_id.strip()
    if stripped.isascii() and stripped.isdecimal():  # a wa_id, on every intake: nothing to do
        return stripped
    if _PHONE_LIKE_ID.fullmatch(stripped):
        return re.sub(r"[\s+]", "", stripped)
    return stripped


_PSEUDONYM_BYTES: Final = -(-PSEUDONYM_LENGTH * 5 // 8)
"""The digest bytes the pseudonym's base32 characters come from (five bits each). Base32
encodes every five bytes on their own, so encoding only these gives the same characters as
encoding the whole digest, without the pure-Python encoder walking the other 27 bytes for
every new sender at the intake."""


def pseudonym(key: bytes, stable_id: str) -> str:
    """Return the keyed pseudonym (``K-XXXXXXXX``) agents use to talk about a customer.

    The version goes into the MAC input so a future scheme yields different pseudonyms instead
    of silently colliding with old ones.
    """
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"privacy.pseudonym_key must be at least {MIN_KEY_BYTES} bytes "
            f"(got {len(key)}); generate one with: python -c "
            "'import secrets; print(secrets.token_urlsafe(32))'"
        )
    normalised = _normalise_stable_id(stable_id)
    if not normalised:
        raise ValueError("stable_id is empty: a pseudonym needs a wa_id or BSUID")
    message = f"v{PSEUDONYM_VERSION}:".encode() + normalised.encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).digest()  # hmac.digest drops the GIL
    shown = base64.b32encode(digest[:_PSEUDONYM_BYTES]).decode("ascii")
    return PSEUDONYM_PREFIX + shown[:PSEUDONYM_LENGTH]


# ---------------------------------------------------------------------------------------------
# Masked numbers

SENDER_PATTERNS = 512
"""Senders whose number pattern stays compiled (~9 KiB each): the recently active ones.
``re`` keeps its last 512 compiled patterns anyway; 4,096 held ~37 MiB once that many
customers had written (issue 16: memory growth ≤ 10 MB)."""
# ---------------------------------------------------------------------------------------------

_NON_DIGIT = re.compile(r"\D")


def _ascii_digits(text: str) -> str:
    """Keep digits only, turning any Unicode digit (e.g. full-width) into ASCII."""
    kept = _NON_DIGIT.sub("", text)
    if kept.isascii():  # a wa_id, and nearly every number typed: nothing to turn
        return kept
    return "".join(str(int(ch)) for ch in kept)


@functools.lru_cache(maxsize=4096)
def _split_country_code(digits: str) -> tuple[int, str] | None:
    """Split E.164 digits into (country code, national significant number) if the code exists.

    Cached: every masked span and the thread title ask this again for the same few numbers.
    """
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code is None:
        return None
    cc = int(parsed.country_code)
    if phonenumbers.region_code_for_country_code(cc) == phonenumbers.UNKNOWN_REGION:
        return None
    nsn = str(phonenumbers.national_significant_number(parsed))
    if not nsn:
        return None
    return cc, nsn


def _clamp_visible(visible_digits: int, length: int) -> int:
    """At most 4 digits and never more than half the number, so short numbers stay hidden."""
    return max(0, min(visible_digits, MAX_VISIBLE_DIGITS, length // 2))


def _bullets(digits: str, visible_digits: int) -> str:
    """Bullets for the hidden part, grouped like the example ``••• ••••••67``."""
    visible = _clamp_visible(visible_digits, len(digits))
    hidden = len(digits) - visible
    body = BULLET * hidden + (digits[-visible:] if visible else "")
    if len(body) <= 4:
        return body
    return body[:3] + " " + body[3:]


def mask_number(e164_digits: str, visible_digits: int = DEFAULT_VISIBLE_DIGITS) -> str:
    """Render a number the way agents may see it: country code and the last digits only.

    The mobile prefix is hidden on purpose: it would leak three more digits (privacy.md).
    Input may carry '+', a leading '00' or separators. Without a recognisable country code the
    result is bullets and the last digits, never the raw input.
    """
    digits = _ascii_digits(e164_digits)
    if not digits:
        return BULLET * 3
    if digits.startswith("00"):
        digits = digits[2:]
    split = _split_country_code(digits) if not digits.startswith("0") else None
    if split is None:
        return _bullets(digits, visible_digits)
    cc, nsn = split
    return f"+{cc} {_bullets(nsn, visible_digits)}"


def region_for(e164_digits: str) -> str | None:
    """The customer's region, which decides how national-format numbers in their text parse."""
    digits = _ascii_digits(e164_digits)
    if digits.startswith("00"):
        digits = digits[2:]
    if not digits or digits.startswith("0"):
        return None
    return _sole_region(digits) or _parsed_region(digits)


_SOLE_REGION: Final = {
    code: regions[0]
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
    if len(regions) == 1 and regions[0] != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
}
"""Country codes that belong to one region only (+49 DE, +43 AT …), with that region."""
_SOLE_REGION_LENGTHS: Final = range(7, 16)
"""Number lengths (country code included) for which libphonenumber's parse cannot fail."""


def _sole_region(digits: str) -> str | None:
    """The region of an E.164 number whose country code is one region's, found as
    libphonenumber's parse finds the code (the shortest known one of its first three
    digits), without the parse's hundred-odd calls: the intake asks this for every new
    sender. None means ask :func:`_parsed_region`: a code shared by regions (+1, +7, +44 …)
    needs the national number's ranges, a non-geographic one has no region, and an unusual
    length may make the parse fail (tests compare both for every country code)."""
    if len(digits) not in _SOLE_REGION_LENGTHS:
        return None
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return _SOLE_REGION.get(code)
    return None


def _parsed_region(digits: str) -> str | None:
    """The region libphonenumber gives ``+digits`` (ASCII digits, not starting with 0)."""
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    if (not region or region == phonenumbers.UNKNOWN_REGION) and parsed.country_code:
        # Invalid but plausibly typed numbers still tell us the country.
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
    if region in (
        None,
        "",
        phonenumbers.UNKNOWN_REGION,
        phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY,
    ):
        return None
    return str(region)


def customer_region(sender_digits: str | None, default: str = DEFAULT_REGION) -> str:
    """Region for :func:`redact_text`: the customer's own, else the configured default."""
    if sender_digits:
        region = region_for(sender_digits)
        if region:
            return region
    return default


def initials(name: str) -> str:
    """Shared contacts are third parties' data: agents get initials, never the full name.

    Hyphenated parts keep their hyphen ("Anna-Lena Weiß" → "A.-L. W."); tokens that do not
    start with a letter (numbers, emoji) are dropped because they could carry the number.
    """
    words: list[str] = []
    for token in name.split():
        parts = [p for p in token.split("-") if p]
        letters = [p[0].upper() + "." for p in parts if p[0].isalpha()]
        if letters:
            words.append("-".join(letters))
    return " ".join(words)


# ---------------------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """A phone number found in a text.

    ``e164`` holds the E.164 digits (no '+') when the country is known; ``digits`` are the
    digits as written, used when it is not (then the rendering shows bullets only).
    """

    start: int
    end: int
    digits: str
    e164: str | None = None

    def render(self, visible_digits: int) -> str:
        """The masked replacement for this span."""
        if self.e164:
            return mask_number(self.e164, visible_digits)
        return _bullets(self.digits, visible_digits)


class NumberDetector(Protocol):
    """Finds numbers in text. Add a class here (IBAN, e-mail…) to redact more kinds."""

    def find(self, text: str) -> list[Span]: ...


# ---------------------------------------------------------------------------------------------
# The normalised view detectors read
# ---------------------------------------------------------------------------------------------

# What the chat's view rewrites beyond :data:`bot.number_reading.REWRITTEN`: '_', and a '+'
# that stands for a space in a query string ("?text=ruf+an+0176+…": after a letter before a 0,
# or between digits).
_SPECIAL = re.compile(rf"{REWRITTEN}|_|(?<=[A-Za-z])\+(?=0)|(?<=\d)\+(?=\d)")


def _plain(special: str) -> str:
    if special in ("_", "+"):
        return " "
    read = plain(special)
    return " " if read == "_" else read  # full-width and small low lines fold to '_'


def normalise(text: str) -> View:
    """The view of ``text`` with every way of hiding a digit or a separator undone."""
    return rewrite(text, _SPECIAL, _plain)


# ---------------------------------------------------------------------------------------------
# Detectors
# ---------------------------------------------------------------------------------------------

# Between two digits of a number (bot.number_reading): whitespace and up to three marks; the
# contextual pass, which takes numbers libphonenumber rejects, only layout marks.
_GAP = gap()
_SEP = separator()
_DIGIT_RE = re.compile(r"\d")
_MIN_DIGITS_FOR_A_NUMBER = 6


def _digits_pattern(digits: str) -> str:
    return _GAP.join(digits)


def _rebalance(text: str, start: int, end: int) -> tuple[int, int]:
    """Pull an opening parenthesis into the span if the span closes it, and vice versa."""
    chunk = text[start:end]
    if chunk.count(")") > chunk.count("(") and start > 0 and text[start - 1] == "(":
        start -= 1
    elif chunk.startswith("(") and chunk.count("(") > chunk.count(")"):
        start += 1
    return start, end


class SenderNumberDetector:
    """Finds the sender's own number by its digits, whatever the notation.

    Variants: ``+CC…``, ``00CC…``, bare ``CC…`` (a pasted wa_id), ``+CC (0)…``, national with
    trunk prefix ``0…`` and, if long enough not to hit random digit runs, the bare national
    significant number. Up to three separators may stand between any two digits.
    """

    def __init__(self, sender_digits: str) -> None:
        self._pattern = _sender_pattern(_ascii_digits(sender_digits))
        self._e164 = _ascii_digits(sender_digits).removeprefix("00") or None

    def find(self, text: str) -> list[Span]:
        if self._pattern is None:
            return []
        spans: list[Span] = []
        for m in self._pattern.finditer(text):
            start, end = _rebalance(text, m.start(), m.end())
            spans.append(Span(start, end, _ascii_digits(m.group()), self._e164))
        return spans


@functools.lru_cache(maxsize=SENDER_PATTERNS)
def _sender_pattern(digits: str) -> re.Pattern[str] | None:
    """Compiled once per sender: conversations repeat, compiling per message would dominate."""
    digits = digits.removeprefix("00")
    if len(digits) < _MIN_DIGITS_FOR_A_NUMBER:
        return None
    split = _split_country_code(digits) if not digits.startswith("0") else None
    if split is None:
        body = _digits_pattern(digits)
        return re.compile(rf"(?<!\d)(?:\(\s*)?(?:(?:\+|00){_GAP})?{body}(?!\d)")
    cc, nsn = split
    region = phonenumbers.region_code_for_country_code(cc)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = (metadata.national_prefix if metadata is not None else None) or ""
    nsn_pat = _digits_pattern(nsn)
    cc_pat = _digits_pattern(str(cc))
    sep = _GAP
    # "+49 (0)151…" and "+49 0151…" are common mixes of international and national notation.
    international = rf"(?:(?:\+|00){sep})?{cc_pat}{sep}(?:\(\s*0\s*\){sep}|0{sep})?"
    prefixes = [international]
    if trunk:
        prefixes.append(_digits_pattern(trunk) + _GAP)
    prefix = "(?:" + "|".join(prefixes) + ")"
    if len(nsn) >= 7:
        prefix += "?"
    return re.compile(rf"(?<!\d)(?:\(\s*)?{prefix}{nsn_pat}(?!\d)")


# --- guards against false positives ------------------------------------------------------------

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:(?:19|20)\d{2}|\d{2})"
# Amounts: grouped thousands or at most six plain digits, never the tail of a longer digit run
# (otherwise "0151 23456789 Euro-Shop" would shield the phone number).
_MONEY = (
    r"(?<![\d.,'’])(?:\d{1,3}(?:[.'’]\d{3})+|\d{1,6})"
    r"(?:[.,]\d{1,2}|[.,]-{1,2}|[.,]–)?(?![\d.,'’]\d)"
)
_CURRENCY = r"(?:€|EUR|Euro|CHF|SFr\.?|Fr\.|Franken|USD|US\$|\$|£|GBP)"

_PROTECTED = re.compile(
    "|".join(
        [
            # dates: 12.03.2024, 12. 3. 24, 12/03/2024, 2024-03-12, 12-03-2024; not the start
            # of more groups the same way ("06. 12. 34. 56. 78" is a French number)
            rf"(?<![\d.]){_DAY}\.\s?{_MONTH}\.\s?{_YEAR}(?!\.?\d|\.\s\d)",
            rf"(?<![\d/]){_DAY}/{_MONTH}/{_YEAR}(?!/?\d)",
            rf"(?<![\d-])(?:19|20)\d{{2}}-{_MONTH}-{_DAY}(?!-?\d)",
            rf"(?<![\d-]){_DAY}-{_MONTH}-(?:19|20)\d{{2}}(?!-?\d)",
            # times: 14:30, 14:30:15, 14.30 Uhr; not part of more groups ("06:12:34:56:78")
            r"(?<![\d:])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?!\d|:\s?\d)",
            r"(?<!\d)(?:[01]?\d|2[0-3])\.[0-5]\d(?=\s?(?:Uhr|h)\b)",
            # amounts: 1.234,56 €, EUR 49,90, CHF 1'200.-
            rf"{_CURRENCY}\s?(?:{_MONEY})",
            rf"(?:{_MONEY})\s?{_CURRENCY}",
            # IBAN (format only: a typo in an IBAN is still not a phone number)
            r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b",
            # ISBN-10/13, with or without the prefix
            r"\bISBN(?:-?1[03])?:?\s*(?:97[89][\s-]?)?\d{1,5}[\s-]?\d{1,7}[\s-]?\d{1,7}[\s-]?[\dXx]\b",
            r"(?<![\d-])97[89]-\d{1,5}-\d{1,7}-\d{1,7}-\d(?![\d-])",
            # postcodes: CH-8001, D-80331, 80331 München, 1010 Wien
            r"\b(?:D|DE|A|AT|CH|FL|L|I)-\s?\d{4,5}\b",
            r"(?<![\d+])(?<!\d[\s/.-])\b\d{4,5}(?=\s+[A-ZÄÖÜ][a-zäöüß])",
        ]
    )
)

# Words that announce an identifier rather than a phone number. Some are identifiers on their
# own ("Rechnung 4711"); others only with a number word ("Kundennummer", not "Kunden-Hotline").
_ID_ALONE = (
    r"rechnung|bestellung|auftrag|sendung|lieferung|tracking|ticket|vorgang|referenz|ref|"
    r"iban|bic|blz|isbn|issn|ean|gtin|plz|postleitzahl|order|invoice|aktenzeichen|az|"
    r"lieferschein|beleg|police|polizze|sku|s/n|paket"
)
_ID_WITH_NUMBER_WORD = (
    r"bestell|kunde|kd|art|artikel|konto|vertrag|mitglied|versicherung|zähler|serie|steuer|"
    r"ust|ust-?id|buchung|reservierung|transaktion|customer|account|fall|geräte|fahrgestell|"
    r"lieferung|rechnung|auftrag|sendung|vorgang|paket|ticket|order|invoice|tracking|referenz"
)
_NUMBER_WORD = r"nummer|nummern|nr|no|number|id|code|zeichen"
_ID_KEYWORD_TAIL = re.compile(
    rf"(?:\b(?:{_ID_ALONE})(?:s|en|n)?\.?"
    rf"|\b(?:{_ID_WITH_NUMBER_WORD})(?:s|en|n)?[\s.-]*(?:{_NUMBER_WORD})\b\.?)"
    r"[\s(]*(?:[:#]|\b(?:ist|lautet|is|war|wäre)\b)?[\s(]*[:#]?\s*"
    # the candidate may be a later group of the id: "Auftrag 2024 0815 4711"
    r"(?:\d+[\s./-]+)*$",
    re.IGNORECASE,
)
_TAIL_WINDOW = 60

# Words that announce a phone number (German, some English and Swiss "Natel").
_PHONE_KEYWORD = re.compile(
    r"\b(?:tel(?:efon)?(?:nummer|nr)?\.?|tel\.?-?nr\.?|handy(?:nummer|nr)?|mobil(?:nummer|nr|telefon)?"
    r"|festnetz(?:nummer)?|fax(?:nummer)?|rufnummer|natel|whatsapp|erreichbar|anrufen|ruf|rufen"
    r"|zurückrufen|rückruf|phone|mobile|cell|call)\b"
    r"(?P<filler>[^\d\n+]{0,20}?)"
    # 6 to 15 digits: E.164 has at most 15, so longer runs are two numbers or no number.
    rf"(?P<number>\+?\(?\d(?:{gap(LAYOUT_MARK, 2)}\d){{5,14}})(?!\d)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=16)
def _protected_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """Cached for the few detectors that each guard the same text in one redaction."""
    return tuple((m.start(), m.end()) for m in _PROTECTED.finditer(text))


def _mostly_protected(text: str, start: int, end: int, ranges: Sequence[tuple[int, int]]) -> bool:
    """Half or more of the candidate's digits lie in dates, amounts, IBANs …

    Not any overlap: "044 123 45 67 Fr. Meier" touches the amount pattern "67 Fr." (Swiss
    francs) but is still a phone number.
    """
    covered = total = 0
    for pos in range(start, end):
        if text[pos].isdigit():
            total += 1
            if any(r_start <= pos < r_end for r_start, r_end in ranges):
                covered += 1
    return total > 0 and covered * 2 >= total


_GLUED_PREFIX = re.compile(r"([^\W_]+)[-/#]?$")
_PHONE_WORD = re.compile(
    r"tel|telefon|fon|phone|handy|mobil|mobile|fax|festnetz|natel|nr|nummer|whatsapp|wa", re.I
)


def _part_of_identifier(text: str, start: int, end: int) -> bool:
    """``RE-2024-00123``, ``IMG-20240312-WA0001``, ``ESY1161234567``: digits glued to a code.

    A glued word counts as a code if it mixes letters and digits or is a short upper-case
    abbreviation, and is no phone word: "Tel-0151…", "Huber/0151…", "Angebot0176…" and the
    second number of "0151 23456789/0176 98765432" remain phone numbers. An underscore is no
    glue (the view turns it into a space): "Scan_0176…" is a file name with a number in it.
    """
    glued = _GLUED_PREFIX.search(text, max(0, start - 12), start)
    if glued is not None:
        word = glued.group(1)
        has_letter = not word.isdigit()
        is_code = has_letter and (
            any(ch.isdigit() for ch in word) or (len(word) <= 5 and word.isupper())
        )
        if is_code and not _PHONE_WORD.fullmatch(word):
            return True
    # "0815-4711-2023-0042": the candidate stopped inside a longer run of dashed digit groups.
    # Not '/', which commonly separates two phone numbers.
    after = text[end : end + 2]
    return len(after) == 2 and after[0] == "-" and after[1].isdigit()


def _announced_as_identifier(text: str, start: int) -> bool:
    return _ID_KEYWORD_TAIL.search(text[max(0, start - _TAIL_WINDOW) : start]) is not None


class _Guards:
    """Protected ranges are computed once per text and only if some candidate needs them."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._ranges: tuple[tuple[int, int], ...] | None = None

    def reject(self, start: int, end: int) -> bool:
        text = self._text
        if text[start] == "+":
            return False  # an explicit international prefix is never a date or an amount
        if self._ranges is None:
            self._ranges = _protected_ranges(text)
        return (
            _mostly_protected(text, start, end, self._ranges)
            or _part_of_identifier(text, start, end)
            or _announced_as_identifier(text, start)
        )


class PhoneNumberMatcherDetector:
    """libphonenumber's matcher at ``Leniency.VALID`` for ``region``, minus false positives.

    A match that is only part of a run starting like a number (the run goes on across a mark,
    a line break or more spaces than libphonenumber reads: "+4930100*000", "0043 66400 / 1640"
    on two lines) is left to :class:`DigitRunDetector`, which reads the whole run.
    """

    def __init__(self, region: str = DEFAULT_REGION) -> None:
        self.region = region.upper()

    def find(self, text: str) -> list[Span]:
        guards = _Guards(text)
        runs = [m.span() for m in _PREFIXED_RUN.finditer(text)]
        spans: list[Span] = []
        matcher = phonenumbers.PhoneNumberMatcher(
            text, self.region, leniency=phonenumbers.Leniency.VALID
        )
        for match in matcher:
            start, end = _rebalance(text, match.start, match.end)
            if guards.reject(start, end):
                continue
            if any(a <= start and end <= b and b - a > end - start for a, b in runs):
                continue
            e164 = phonenumbers.format_number(match.number, _PHONE_E164).lstrip("+")
            spans.append(Span(start, end, _ascii_digits(match.raw_string), e164))
        return spans


class ContextualNumberDetector:
    """Digit runs right after "Tel.", "Handy", "erreichbar unter" … even if not valid.

    A customer who writes "Handy 0151 1234567" (a digit short) still means a phone number;
    libphonenumber rejects it, so without this pass it would reach the chat unmasked.
    """

    def __init__(self, region: str = DEFAULT_REGION) -> None:
        self.region = region.upper()

    def find(self, text: str) -> list[Span]:
        guards = _Guards(text)
        spans: list[Span] = []
        for m in _PHONE_KEYWORD.finditer(text):
            start, end = _rebalance(text, m.start("number"), m.end("number"))
            if guards.reject(start, end):
                continue
            raw = text[start:end]
            spans.append(Span(start, end, _ascii_digits(raw), self._e164(raw)))
        return spans

    def _e164(self, raw: str) -> str | None:
        try:
            parsed = phonenumbers.parse(raw, self.region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(parsed):
            return None
        return str(phonenumbers.format_number(parsed, _PHONE_E164)).lstrip("+")


def _valid_e164(written: str, region: str | None) -> str | None:
    """E.164 digits of ``written`` if libphonenumber holds it valid for its country code."""
    try:
        parsed = phonenumbers.parse(written, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, _PHONE_E164)).lstrip("+")


# International without '+'/'00': one unbroken run, as wa_ids and wa.me links write it. Nine
# digits at least (the shortest country code plus the shortest national numbers of DACH).
_BARE_INTERNATIONAL = re.compile(r"(?<![\d+])[1-9]\d{8,14}(?!\d)")
# The same with the country code set apart ("49 176 3344556", "41-79-…"): tried only if the
# first group is a country code, so "12 345 678 901" (an amount) is never read as +1 2345….
_SPACED_INTERNATIONAL = re.compile(
    rf"(?<![\d+])(?P<cc>[1-9]\d{{0,2}})(?!\d){_GAP}\d(?:{_GAP}\d){{6,13}}(?!\d)"
)
# A run that starts like a number ('+', '00' or a trunk '0'), even glued to a word
# ("Angebot0176-…", "Tel+49…") or running into the next number on the next line; not the
# middle of a dashed id ("4711-0815-2026").
# The trunk '0' may stand alone, as in "0•3•0•1•2•3•4•5•6•7•8" (a separator after every digit).
_PREFIXED_RUN = re.compile(rf"(?<![\d+])(?<!\d{MARK})(?:\+\d|0)(?:{_GAP}\d){{4,}}")
# A national number without a trunk prefix, its groups joined by marks ("201•555•0123" in the
# US, "312：345：6789" in Italy): the matcher reads such numbers joined by spaces or dashes only.
# Whatever it does read it claims first, so this pass rarely sees one.
_UNPREFIXED_RUN = re.compile(rf"(?<![\d+])(?<!\d{MARK})[1-9](?:{_GAP}\d){{6,14}}(?!\d)")
# A trunk '0' set apart from what follows: "0•1•7•6…" is a national number, not "+1 76…".
_LONE_TRUNK_ZERO = re.compile(rf"(?<![\d+])0{_GAP}$")
_GROUP_END = re.compile(rf"\d(?={_SEP})")
# Where a new number starts inside a run: '+' or a group of three or more digits led by '0'.
# Subscriber numbers in DACH never start with 0, and "(0)" or "05" in "079 123 05 67" are no cut.
_NEXT_NUMBER = re.compile(rf"(?<={_SEP})(?:\+|0\d\d)")
# E.164 has at most 15 digits; with '00' in front a written number has 17.
_MAX_WRITTEN_DIGITS: Final = 17


def _rstrip_sep(text: str, start: int, end: int) -> int:
    """``end`` moved back over the separators before the next number."""
    while end > start and not text[end - 1].isdigit():
        end -= 1
    return end


def _count_digits(text: str, start: int, end: int) -> int:
    return sum(1 for ch in text[start:end] if ch.isdigit())


class DigitRunDetector:
    """Numbers the matcher skips by design, each validated against its country code.

    libphonenumber ignores a number glued to a letter, gives up on a run of two numbers with
    only a line break or space between them, and reads ``4917698765432`` as a (too long)
    national number of the customer's region. WhatsApp writes numbers exactly like that (wa_ids,
    wa.me links, the "changed number" notice), so such runs are tried as international numbers.
    Runs starting with '+' or '0' are cut where a new number starts (:data:`_NEXT_NUMBER`),
    and in each piece the longest valid prefix ending at a digit group wins.
    """

    def __init__(self, regions: Sequence[str] = (DEFAULT_REGION,)) -> None:
        self.regions = tuple(r.upper() for r in regions)

    def find(self, text: str) -> list[Span]:
        guards = _Guards(text)
        spans: list[Span] = []
        for m in _BARE_INTERNATIONAL.finditer(text):
            e164 = _valid_e164("+" + m.group(), None)
            if e164 is not None and not guards.reject(m.start(), m.end()):
                spans.append(Span(m.start(), m.end(), m.group(), e164))
        for m in _SPACED_INTERNATIONAL.finditer(text):
            if phonenumbers.region_code_for_country_code(int(m.group("cc"))) == "ZZ":
                continue
            if _LONE_TRUNK_ZERO.search(text, max(0, m.start() - 16), m.start()):
                continue
            span = self._longest_valid(text, m.start(), m.end(), international=True)
            if span is not None and not guards.reject(span.start, span.end):
                spans.append(span)
        for m in _UNPREFIXED_RUN.finditer(text):
            if guards.reject(m.start(), m.end()):
                continue  # an id, a date or an amount: no matcher run for it
            span = self._national_across_marks(m.group(), m.start(), m.end())
            if span is not None:
                spans.append(span)
        for m in _PREFIXED_RUN.finditer(text):
            if guards.reject(m.start(), m.end()):
                continue  # "Paketnummer 0034 0434 …": the whole run is an id
            spans += [
                span
                for span in self._pieces(text, m.start(), m.end())
                if not guards.reject(span.start, span.end)
            ]
        return spans

    def _national_across_marks(self, run: str, start: int, end: int) -> Span | None:
        """The run's digits as the matcher reads them in ``region``, if all of them are one
        valid number: a mark joins groups only where the joined digits are valid, and the
        matcher reads neither marks, nor "\\v" or "\\f", nor a space after every digit."""
        digits = _ascii_digits(run)
        for region in self.regions:
            for match in phonenumbers.PhoneNumberMatcher(
                digits, region, leniency=phonenumbers.Leniency.VALID
            ):
                if match.start == 0 and match.end == len(digits):
                    e164 = phonenumbers.format_number(match.number, _PHONE_E164).lstrip("+")
                    return Span(start, end, digits, e164)
        return None

    def _pieces(self, text: str, start: int, end: int) -> list[Span]:
        """Valid numbers of the run's pieces, a piece holding none read as part of its neighbours.

        A cut is a guess: in "+49*3010*0000" the group "0000" looks like a new number but is
        the rest of this one, and in "+4930100*000" the valid "+4930100" is not all of it.
        """
        cuts = [start] + [n.start() for n in _NEXT_NUMBER.finditer(text, start + 1, end)]
        stops = [*cuts[1:], end]
        groups: list[list[int]] = []
        for a, b in zip(cuts, stops, strict=True):
            alone = self._longest_valid(text, a, _rstrip_sep(text, a, b))
            if alone is None and groups:
                groups[-1][1] = b
            else:
                groups.append([a, b])
        spans: list[Span] = []
        unread: int | None = None  # where a group that held no number began
        for a, b in groups:
            span = self._longest_valid(text, a, _rstrip_sep(text, a, b))
            if unread is not None:
                # "0\r049 3 0 1 0…": the unread "0" is the first half of "00", and the number
                # read with it reaches further than the one read without.
                joined = self._longest_valid(text, unread, _rstrip_sep(text, unread, b))
                if joined is not None and (span is None or joined.end > span.end):
                    span = joined
            if span is None:
                unread = a if unread is None else unread
                continue
            spans.append(span)
            unread = None
        return spans

    def _longest_valid(
        self, text: str, start: int, end: int, *, international: bool = False
    ) -> Span | None:
        group_ends = [g.end() for g in _GROUP_END.finditer(text, start, end)] + [end]
        regions: Sequence[str | None] = (None,) if international else self.regions
        for stop in reversed(group_ends):
            if _count_digits(text, start, stop) > _MAX_WRITTEN_DIGITS:
                continue
            digits = _ascii_digits(text[start:stop])
            # Digits only: libphonenumber stops reading at a line break or a second '+'.
            written = "+" + digits if international or text[start] == "+" else digits
            for region in regions:
                e164 = _valid_e164(written, region)
                if e164 is None and written[0] == "+" and "(" in text[start:stop]:
                    e164 = _valid_e164("+" + _without_trunk_in_parens(text, start, stop), None)
                if e164 is not None:
                    return Span(start, stop, digits, e164)
        return None


_TRUNK_IN_PARENS = re.compile(r"\(\s*0\s*\)")


def _without_trunk_in_parens(text: str, start: int, end: int) -> str:
    """The digits without a "(0)": "+1 (0) 212 7365000" is written by people used to
    "+49 (0)30 …", where libphonenumber drops the trunk '0' itself, but +1's trunk is '1'."""
    return _ascii_digits(_TRUNK_IN_PARENS.sub("", text[start:end]))


_ANY_RUN = re.compile(rf"\+?\d(?:{_GAP}\d){{{_MIN_DIGITS_FOR_A_NUMBER - 1},}}")


class AnyDigitRunDetector:
    """Every run of six or more digits, for texts no customer wrote (WhatsApp's notices).

    Such texts hold numbers but no dates or amounts, and a number there may be too new for
    libphonenumber's metadata; a run is shown with its country code if it has one.
    """

    def find(self, text: str) -> list[Span]:
        return [
            Span(m.start(), m.end(), _ascii_digits(m.group()), _ascii_digits(m.group()))
            for m in _ANY_RUN.finditer(text)
        ]


def default_detectors(
    *,
    sender_digits: str | None,
    region: str,
    extra_regions: Sequence[str] = (),
    every_digit_run: bool = False,
) -> list[NumberDetector]:
    """The detectors :func:`redact_text` runs, in priority order."""
    detectors: list[NumberDetector] = []
    if sender_digits:
        detectors.append(SenderNumberDetector(sender_digits))
    regions = [region.upper()]
    regions += [r.upper() for r in extra_regions if r.upper() not in regions]
    detectors += [PhoneNumberMatcherDetector(r) for r in regions]
    detectors.append(DigitRunDetector(regions))
    detectors.append(ContextualNumberDetector(region))
    if every_digit_run:
        detectors.append(AnyDigitRunDetector())
    return detectors


_CLAIMED: Final = "\x00"


def _unclaimed(text: str, chosen: Sequence[Span]) -> str:
    """``text`` with the chosen spans blanked out, positions unchanged."""
    out: list[str] = []
    pos = 0
    for span in sorted(chosen, key=lambda s: s.start):
        out += [text[pos : span.start], _CLAIMED * (span.end - span.start)]
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def find_numbers(text: str, detectors: Iterable[NumberDetector]) -> list[Span]:
    """Spans of all detectors, earlier detectors winning overlaps, sorted by position.

    A detector sees the text with earlier detectors' spans blanked out: it does not spend
    parsing on a number already found, and the rest of a run whose first number an earlier
    pass took is still looked at on its own.
    """
    chosen: list[Span] = []
    unclaimed = text
    for detector in detectors:
        before = len(chosen)
        for span in detector.find(unclaimed):
            if not any(span.start < c.end and c.start < span.end for c in chosen):
                chosen.append(span)
        if len(chosen) > before:
            unclaimed = _unclaimed(text, chosen)
    return sorted(chosen, key=lambda s: s.start)


def redact_spans(text: str, spans: Sequence[Span], visible_digits: int) -> str:
    """Replace non-overlapping, sorted spans by their masked rendering."""
    out: list[str] = []
    pos = 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(span.render(visible_digits))
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def has_enough_digits(text: str, minimum: int = _MIN_DIGITS_FOR_A_NUMBER) -> bool:
    """Cheap pre-check: no phone number has fewer than six digits, most messages have none.

    Circled and superscript digits ("①", "⁷", "🄋") count too: the view reads them as digits
    (``isnumeric``, as "🄋" has a numeric value only; CJK numerals only cost a look).
    """
    if sum(1 for _ in itertools.islice(_DIGIT_RE.finditer(text), minimum)) >= minimum:
        return True
    return not text.isascii() and sum(1 for ch in text if ch.isnumeric()) >= minimum


def redact_text(
    text: str,
    *,
    sender_digits: str | None = None,
    region: str = DEFAULT_REGION,
    visible_digits: int = DEFAULT_VISIBLE_DIGITS,
    extra_regions: Sequence[str] = (),
    every_digit_run: bool = False,
) -> str:
    """Text as agents may see it: every phone number replaced by its masked form.

    ``region`` is the customer's (see :func:`customer_region`); national-format numbers are read
    in it. ``extra_regions`` also reads them as e.g. the business's home region, for customers
    near a border who write a neighbour's number without country code. ``every_digit_run``
    masks any run of six or more digits as well (:class:`AnyDigitRunDetector`). Detectors read
    the normalised view (:func:`normalise`); the original text is what gets masked.
    """
    if not has_enough_digits(text):
        return text
    detectors = default_detectors(
        sender_digits=sender_digits,
        region=region,
        extra_regions=extra_regions,
        every_digit_run=every_digit_run,
    )
    view = normalise(text)
    spans = [
        Span(*view.original(span.start, span.end), span.digits, span.e164)
        for span in find_numbers(view.text, detectors)
    ]
    if not spans:
        return text
    return redact_spans(text, spans, visible_digits)
