"""Any separator a reader skips, between any grouping of a valid number, is masked (defect 5).

The probe of 2026-12-02 got numbers into the chat with Hangul fillers and a modifier-letter
minus between the groups; a list of examples would only pin those. Here the separators are drawn
from Unicode classes computed with ``unicodedata`` (the rule of ``bot/number_reading.py``,
restated from Unicode properties, not imported): whitespace, dashes (Pd and every punctuation or
symbol named MINUS, HYPHEN or DASH), invisible characters (format, combining marks, the Hangul
fillers), modifier letters (Lm: "ː", "ʼ", second probe of 2026-12-02) and any other
punctuation or symbol. Left out, each for a stated reason:

* '+' and what folds to it: it starts a number;
* '%': followed by two hex digits it is a URL escape ("%41" is "A");
* '€', '$', '£': "0151€1234" reads as amounts, which the chat's masker keeps on purpose.

Numbers are valid mobile and fixed-line numbers of several countries, written international
('+', '00') or national with the trunk '0', split into groups of three to five digits or one
digit each (groups of two could spell a date or a time, which the chat keeps on purpose). Each
digit is ASCII or any character with that Unicode digit value (drawn from the whole code space:
"⑴", "⒈", "❶", "🄁", Arabic-Indic …), mixed per digit (second probe of 2026-12-02).
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata

import phonenumbers
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.logfilter import mask_log_text
from bot.privacy import redact_text
from tests.masking import leaked_digits

_NAMED_DASH = re.compile(r"MINUS|HYPHEN|DASH")
_LEFT_OUT = frozenset("%€$£")


@functools.cache
def _separators() -> dict[str, tuple[str, ...]]:
    """Every assigned code point sorted into the classes a reader skips between digit groups."""
    classes: dict[str, list[str]] = {
        "space": [],
        "dash": [],
        "invisible": [],
        "mark": [],
        "modifier": [],
    }
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        category = unicodedata.category(ch)
        name = unicodedata.name(ch, "")
        if ch.isspace():
            classes["space"].append(ch)
        elif category in ("Cf", "Mn", "Me") or (category[0] == "L" and "FILLER" in name):
            classes["invisible"].append(ch)
        elif category == "Lm" and not any(c.isdigit() for c in unicodedata.normalize("NFKC", ch)):
            classes["modifier"].append(ch)
        elif category[0] in "PS":
            folded = unicodedata.normalize("NFKC", ch)
            if "+" in folded or ch in _LEFT_OUT or any(c.isdigit() for c in folded):
                continue
            kind = "dash" if category == "Pd" or _NAMED_DASH.search(name) else "mark"
            classes[kind].append(ch)
    return {kind: tuple(chars) for kind, chars in classes.items()}


@functools.cache
def _gap() -> st.SearchStrategy[str]:
    """Built once: a strategy over thousands of characters is slow to build and validate."""
    classes = _separators()
    space = st.text(st.sampled_from(classes["space"]), min_size=1, max_size=6)
    invisible = st.text(st.sampled_from(classes["invisible"]), min_size=1, max_size=4)
    spaced = st.sampled_from(["", " "])

    def around(chars: tuple[str, ...], most: int) -> st.SearchStrategy[str]:
        inner = st.text(st.sampled_from(chars), min_size=1, max_size=most)
        return st.tuples(spaced, inner, spaced).map("".join)

    return st.one_of(
        space,
        invisible,
        around(classes["dash"], 1),
        around(classes["mark"], 2),
        around(classes["modifier"], 1),
        st.just(""),
    )


REGIONS = ("DE", "AT", "CH", "FR", "GB", "NL", "PL", "IT", "ES", "US", "TR", "BR")
TRUNK_ZERO = frozenset({"DE", "AT", "CH", "FR", "GB", "NL"})
# Written nationally without any prefix: the US (trunk '1' left out), and no trunk at all.
NO_TRUNK = frozenset({"US", "IT", "ES", "PL"})
KINDS = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)


@st.composite
def _numbers(draw: st.DrawFn) -> tuple[str, str, str]:
    """(customer's region, E.164 digits, digits as written without separators) of a valid number.

    '00' is the international prefix of a German customer (a US one dials 011), the trunk '0'
    is the national prefix of the number's own country; US, Italian, Spanish and Polish numbers
    are also written nationally without any prefix.
    """
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(KINDS)))
    assert example is not None
    nsn = phonenumbers.national_significant_number(example)
    keep = draw(st.integers(3, 4))
    tail = draw(st.text("0123456789", min_size=len(nsn) - keep, max_size=len(nsn) - keep))
    number = phonenumbers.parse(f"+{example.country_code}{nsn[:keep]}{tail}")
    assume(phonenumbers.is_valid_number(number))
    e164 = f"{number.country_code}{phonenumbers.national_significant_number(number)}"
    forms = [(region, "+" + e164), ("DE", "00" + e164)]
    if region in TRUNK_ZERO:
        forms.append((region, "0" + phonenumbers.national_significant_number(number)))
    if region in NO_TRUNK:
        forms.append((region, phonenumbers.national_significant_number(number)))
    customer_region, written = draw(st.sampled_from(forms))
    return customer_region, e164, written


@functools.cache
def _digit_characters() -> tuple[tuple[str, ...], ...]:
    """For each digit 0–9, every character with that Unicode digit value: the decimal digits
    of all scripts and the circled, parenthesised, full-stop, comma and superscript ones."""
    chars: list[list[str]] = [[] for _ in range(10)]
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        value = unicodedata.digit(ch, None)
        if value is None and "DIGIT" in unicodedata.name(ch, ""):  # "🄋": numeric value only
            numeric = unicodedata.numeric(ch, None)
            value = int(numeric) if numeric is not None and numeric in range(10) else None
        if value is not None:
            chars[value].append(ch)
    return tuple(tuple(of_value) for of_value in chars)


@functools.cache
def _digit(value: int) -> st.SearchStrategy[str]:
    """One way of writing the digit: ASCII half the time, any character of its value else."""
    return st.one_of(st.just(str(value)), st.sampled_from(_digit_characters()[value]))


@st.composite
def _groups(draw: st.DrawFn, digits: str) -> list[str]:
    """``digits`` in groups of three to five, or one digit each ("0•3•0•1•2…")."""
    if draw(st.booleans()):
        return list(digits)
    groups: list[str] = []
    while digits:
        size = draw(st.integers(3, 5))
        if len(digits) - size < 3:
            size = len(digits)
        groups.append(digits[:size])
        digits = digits[size:]
    return groups


@st.composite
def _written(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """(region, E.164 digits, digits as written, the number with random digits, groups, gaps)."""
    region, e164, plain = draw(_numbers())
    prefix = "+" if plain.startswith("+") else ""
    groups = [
        "".join(draw(_digit(int(d))) for d in group)
        for group in draw(_groups(plain.removeprefix("+")))
    ]
    gap = _gap()
    written = groups[0]
    for group in groups[1:]:
        written += draw(gap) + group
    return region, e164, plain.removeprefix("+"), prefix + written


def _digit_strings(text: str) -> list[str]:
    """The text's digits, ASCII, all non-digits removed: as written and after NFKC."""
    strings = []
    for form in (text, unicodedata.normalize("NFKC", text)):
        strings.append("".join(str(unicodedata.digit(ch)) for ch in form if ch.isdigit()))
    return strings


def _assert_gone(shown: str, e164: str, digits: str) -> None:
    for remaining in _digit_strings(shown):
        assert digits not in remaining, shown
    assert leaked_digits(shown, e164) is None, shown


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_written())
def test_no_separator_keeps_a_number_out_of_the_chat_masker(
    case: tuple[str, str, str, str],
) -> None:
    region, e164, digits, written = case
    shown = redact_text(f"Hier: {written} danke", region=region, visible_digits=2)
    _assert_gone(shown, e164, digits)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_written())
def test_no_separator_keeps_a_number_out_of_the_log_masker(
    case: tuple[str, str, str, str],
) -> None:
    _, e164, digits, written = case
    _assert_gone(mask_log_text(f"refused {written} now"), e164, digits)


def test_the_classes_are_drawn_from_unicode_not_a_list() -> None:
    classes = _separators()
    assert {"\u3164", "\u115f", "\u1160", "\uffa0", "\u034f", "\u180e"} <= set(classes["invisible"])
    assert {"\u02d7", "\u2212", "\u2796", "\ufe63", "\uff0d"} <= set(classes["dash"])
    assert {"*", ",", "#", ":", "\u2022"} <= set(classes["mark"])
    assert {"\u02d0", "\u02bc", "\u02cc", "\u30fc"} <= set(classes["modifier"])
    assert len(classes["space"]) > 20 and len(classes["invisible"]) > 1000


def test_the_digits_are_drawn_from_unicode_not_a_list() -> None:
    ones = set(_digit_characters()[1])
    assert {"1", "\u2474", "\u2488", "\u2780", "\u2776", "\u24f5", "\U0001f102", "\u0661"} <= ones
    assert "\U0001f10b" in _digit_characters()[0]  # DINGBAT CIRCLED SANS-SERIF DIGIT ZERO
    assert "\u247d" not in {ch for chars in _digit_characters() for ch in chars}  # ⑽: ten
