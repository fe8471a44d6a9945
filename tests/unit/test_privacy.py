"""Pseudonyms, masked numbers, sender matching and the detector pipeline (bot/privacy.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re

import phonenumbers
import pytest

from bot.errors import ConfigError
from bot.privacy import (
    PSEUDONYM_VERSION,
    AnyDigitRunDetector,
    ContextualNumberDetector,
    DigitRunDetector,
    NumberDetector,
    PhoneNumberMatcherDetector,
    PseudonymKeyError,
    SenderNumberDetector,
    Span,
    customer_region,
    find_numbers,
    has_enough_digits,
    initials,
    mask_number,
    normalise,
    pseudonym,
    redact_spans,
    redact_text,
    region_for,
)
from bot.privacy import _parsed_region as parsed_region
from tests.support.calls import calls, calls_into

KEY = b"0123456789abcdef0123456789abcdef"
OTHER_KEY = b"fedcba9876543210fedcba9876543210"
SENDER = "4915112345678"  # +49 151 12345678, a valid German mobile number


def _b32(digest: bytes) -> str:
    return base64.b32encode(digest).decode("ascii")


# --- pseudonyms ---------------------------------------------------------------------------------


def test_pseudonym_format() -> None:
    assert re.fullmatch(r"K-[A-Z2-7]{8}", pseudonym(KEY, SENDER))


def test_pseudonym_is_stable() -> None:
    assert pseudonym(KEY, SENDER) == pseudonym(KEY, SENDER)


def test_pseudonym_changes_with_the_key() -> None:
    assert pseudonym(KEY, SENDER) != pseudonym(OTHER_KEY, SENDER)


def test_pseudonym_differs_between_people() -> None:
    assert pseudonym(KEY, SENDER) != pseudonym(KEY, "4915112345679")


def test_pseudonym_is_the_versioned_keyed_mac() -> None:
    message = f"v{PSEUDONYM_VERSION}:{SENDER}".encode()
    expected = _b32(hmac.new(KEY, message, hashlib.sha256).digest())[:8]
    assert pseudonym(KEY, SENDER) == "K-" + expected


def test_pseudonym_is_not_a_plain_hash() -> None:
    body = pseudonym(KEY, SENDER).removeprefix("K-")
    for data in (SENDER.encode(), ("+" + SENDER).encode(), f"v1:{SENDER}".encode()):
        digest = hashlib.sha256(data).digest()
        assert body != _b32(digest)[:8]
        assert body.lower() not in hashlib.sha256(data).hexdigest()


def test_pseudonym_is_not_an_unkeyed_hmac() -> None:
    body = pseudonym(KEY, SENDER).removeprefix("K-")
    for data in (SENDER.encode(), f"v1:{SENDER}".encode()):
        assert body != _b32(hmac.new(b"", data, hashlib.sha256).digest())[:8]


def test_pseudonym_same_person_with_or_without_plus() -> None:
    assert pseudonym(KEY, "+49 151 12345678") == pseudonym(KEY, SENDER)


def test_pseudonym_accepts_bsuid() -> None:
    bsuid = "DE.2f8c1a9e-5b7d-4c3a-9e1f-0a6b8c7d5e4f"
    assert re.fullmatch(r"K-[A-Z2-7]{8}", pseudonym(KEY, bsuid))
    assert pseudonym(KEY, bsuid) != pseudonym(KEY, SENDER)


@pytest.mark.parametrize("key", [b"", b"short-key"])
def test_pseudonym_refuses_missing_or_short_key(key: bytes) -> None:
    with pytest.raises(PseudonymKeyError) as excinfo:
        pseudonym(key, SENDER)
    assert isinstance(excinfo.value, ConfigError)
    assert SENDER not in str(excinfo.value)


def test_pseudonym_refuses_empty_id() -> None:
    with pytest.raises(ValueError):
        pseudonym(KEY, "  ")


# --- masked numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "visible", "expected"),
    [
        ("4915112345678", 2, "+49 ••• ••••••78"),
        ("+4915112345678", 2, "+49 ••• ••••••78"),
        ("004915112345678", 2, "+49 ••• ••••••78"),
        ("+49 151 1234 5678", 2, "+49 ••• ••••••78"),
        ("4915112345678", 0, "+49 ••• ••••••••"),
        ("4915112345678", 4, "+49 ••• ••••5678"),
        ("4915112345678", 9, "+49 ••• ••••5678"),
        ("4915112345678", -3, "+49 ••• ••••••••"),
        ("436641234567", 2, "+43 ••• •••••67"),
        ("41791234567", 2, "+41 ••• ••••67"),
        ("12015550123", 2, "+1 ••• •••••23"),
    ],
)
def test_mask_number(number: str, visible: int, expected: str) -> None:
    assert mask_number(number, visible) == expected


def test_mask_number_default_shows_two_digits() -> None:
    assert mask_number(SENDER) == "+49 ••• ••••••78"


@pytest.mark.parametrize("number", ["99912345678", "015112345678", "0 151 12345678"])
def test_mask_number_without_country_code_is_bullets_and_last_digits(number: str) -> None:
    masked = mask_number(number)
    assert masked.endswith("78")
    assert not masked.startswith("+")
    assert sum(ch.isdigit() for ch in masked) == 2


def test_mask_number_never_shows_more_than_half_of_a_short_number() -> None:
    masked = mask_number("4930123", 4)  # +49 30123: national number of 5 digits
    assert masked == "+49 ••• 23"


def test_mask_number_shows_at_most_four_subscriber_digits() -> None:
    for visible in range(10):
        subscriber = mask_number(SENDER, visible).removeprefix("+49 ")
        assert sum(ch.isdigit() for ch in subscriber) <= 4


def test_mask_number_of_nothing() -> None:
    assert mask_number("") == "•••"


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("4915112345678", "DE"),
        ("+436641234567", "AT"),
        ("41791234567", "CH"),
        ("12015550123", "US"),
        ("4915112", "DE"),  # too short to be valid, the country is still clear
        ("99912345", None),
        ("015112345678", None),
        ("", None),
    ],
)
def test_region_for(number: str, region: str | None) -> None:
    assert region_for(number) == region


def test_region_for_gives_what_libphonenumber_parses_for_every_country_code() -> None:
    """The shortcut for codes of one region answers as the parse does, for each known code
    and numbers of every length around the ones the shortcut takes."""
    rng = random.Random(16)
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        for length in range(len(str(code)), 19):
            for _ in range(3):
                rest = "".join(rng.choice("0123456789") for _ in range(length - len(str(code))))
                number = f"{code}{rest}"
                assert region_for(number) == parsed_region(number), number


def test_a_new_senders_identity_needs_no_parse_and_keeps_the_gil() -> None:
    """The intake asks region and pseudonym for every new sender: libphonenumber's parse is
    ~100 calls, and ``hmac.digest`` lets go of the GIL, which the store's thread may then
    hold for a switch interval (5 ms)."""
    counted = calls(lambda: (region_for(SENDER), pseudonym(KEY, SENDER)))
    assert calls_into(counted, "phonenumbers") == 0
    assert counted["_hashlib.hmac_digest"] == 0


def test_pseudonym_of_any_id_is_the_keyed_mac_of_its_normal_form() -> None:
    """Pseudonyms are stored and shown: the same ids must keep giving the same ones."""
    rng = random.Random(16)
    alphabet = "0123456789 +-.abcDE\u0663\uff15"
    for _ in range(2000):
        stable_id = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 20)))
        stripped = stable_id.strip()
        if not stripped:
            continue
        if re.fullmatch(r"\+?\d[\d\s]*", stripped):
            stripped = re.sub(r"[\s+]", "", stripped)
        digest = hmac.new(KEY, f"v{PSEUDONYM_VERSION}:{stripped}".encode(), hashlib.sha256)
        assert pseudonym(KEY, stable_id) == "K-" + _b32(digest.digest())[:8], stable_id


def test_customer_region_falls_back_to_default() -> None:
    assert customer_region("436641234567") == "AT"
    assert customer_region(None) == "DE"
    assert customer_region("99912345", default="CH") == "CH"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Chandler Bing", "C. B."),
        ("  monica   geller ", "M. G."),
        ("Anna-Lena Weiß", "A.-L. W."),
        ("Özlem Yılmaz", "Ö. Y."),
        ("Mama 0151 12345678", "M."),
        ("", ""),
    ],
)
def test_initials(name: str, expected: str) -> None:
    assert initials(name) == expected


# --- the sender's own number --------------------------------------------------------------------

SENDER_FORMATS = [
    "+49 151 12345678",
    "0049151 12345678",
    "0049 151 12345678",
    "0151/12345678",
    "0151-123 456 78",
    "(0151) 12345678",
    "+49 (0)151 12345678",
    "+49 0151 12345678",
    "(+49) 151 12345678",
    "+4915112345678",
    "4915112345678",
    "15112345678",
    "0151.1234.5678",
    "0151 / 123 456 78",
    "0151 12 34 56 78",
    "0151–12345678",
    "0151\u00a012345678",
]


@pytest.mark.parametrize("written", SENDER_FORMATS)
def test_sender_detector_finds_every_notation(written: str) -> None:
    text = f"Meine Nummer ist {written}, danke."
    spans = SenderNumberDetector(SENDER).find(text)
    assert [text[s.start : s.end] for s in spans] == [written]
    assert spans[0].e164 == SENDER


@pytest.mark.parametrize("written", SENDER_FORMATS)
def test_sender_number_masked_in_any_notation(written: str) -> None:
    # Region CH: the libphonenumber pass cannot read German national numbers, so the sender
    # pass alone has to catch them.
    text = f"Meine Nummer ist {written}, danke."
    redacted = redact_text(text, sender_digits=SENDER, region="CH", visible_digits=2)
    assert redacted == "Meine Nummer ist +49 ••• ••••••78, danke."


def test_national_number_without_trunk_prefix_is_only_caught_by_the_sender_pass() -> None:
    # "15112345678" could be anything; as the sender's own digits it is their number.
    text = "Schreib an 15112345678"
    assert redact_text(text, sender_digits=None, region="DE", visible_digits=2) == text
    assert redact_text(text, sender_digits=SENDER, region="DE", visible_digits=2) == (
        "Schreib an +49 ••• ••••••78"
    )


def test_anyones_international_number_without_plus_is_masked() -> None:
    # Issue 12: bare international digits survived unless they were the sender's own.
    text = "Schreib an 4917698765432 oder 4915112345678"
    assert redact_text(text, sender_digits=None, region="DE", visible_digits=2) == (
        "Schreib an +49 ••• ••••••32 oder +49 ••• ••••••78"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Konto 501511234567899",  # sender digits inside a longer run
        "Ref 15112345678901",
        "Nummer 0151 1234567",  # one digit short: not the sender (the contextual pass may act)
    ],
)
def test_sender_detector_needs_digit_boundaries(text: str) -> None:
    assert SenderNumberDetector(SENDER).find(text) == []


def test_sender_with_unknown_country_code_still_matched() -> None:
    text = "Ruf an: +999 1234 5678"
    spans = SenderNumberDetector("99912345678").find(text)
    assert [text[s.start : s.end] for s in spans] == ["+999 1234 5678"]


def test_sender_and_other_numbers_in_one_message() -> None:
    text = "Ich bin 0151 12345678, meine Frau 0176 98765432, am 12.03.2024 ab 14:30 Uhr."
    redacted = redact_text(text, sender_digits=SENDER, region="DE", visible_digits=2)
    assert redacted == (
        "Ich bin +49 ••• ••••••78, meine Frau +49 ••• ••••••32, am 12.03.2024 ab 14:30 Uhr."
    )


# --- the pipeline -------------------------------------------------------------------------------


def test_short_texts_are_returned_untouched() -> None:
    text = "Hallo, 12345 ist meine Hausnummer"
    assert not has_enough_digits(text)
    assert redact_text(text, sender_digits=SENDER, region="DE", visible_digits=2) is text


def test_redaction_is_idempotent() -> None:
    text = "Tel. +43 664 1234567 oder 0151 12345678"
    once = redact_text(text, sender_digits=SENDER, region="AT", visible_digits=2)
    assert redact_text(once, sender_digits=SENDER, region="AT", visible_digits=2) == once


def test_visible_digits_are_respected() -> None:
    text = "Ruf an: 0176 98765432"
    assert redact_text(text, sender_digits=None, region="DE", visible_digits=0) == (
        "Ruf an: +49 ••• ••••••••"
    )
    assert redact_text(text, sender_digits=None, region="DE", visible_digits=4) == (
        "Ruf an: +49 ••• ••••5432"
    )


def test_region_decides_how_national_numbers_read() -> None:
    text = "Bin unter 0664 1234567 erreichbar"
    assert redact_text(text, sender_digits=None, region="AT", visible_digits=2) == (
        "Bin unter +43 ••• •••••67 erreichbar"
    )


def test_extra_regions_catch_a_neighbours_national_number() -> None:
    text = "Die Filiale in München hat 089/1234567."
    assert redact_text(text, sender_digits=None, region="AT", visible_digits=2) == text
    assert redact_text(
        text, sender_digits=None, region="AT", visible_digits=2, extra_regions=("DE",)
    ) == ("Die Filiale in München hat +49 ••• ••••67.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Handy 0151 1234567, danke", "Handy +49 ••• •••••67, danke"),
        ("Erreichbar unter 0171-23456", "Erreichbar unter +49 ••• •••56"),
        ("Tel.-Nr.: 12 34 56 78 9", "Tel.-Nr.: +49 ••• ••••89"),
    ],
)
def test_contextual_pass_masks_invalid_numbers_after_phone_words(text: str, expected: str) -> None:
    assert redact_text(text, sender_digits=None, region="DE", visible_digits=2) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Rückruf am 12.03.2024 passt",
        "Bitte anrufen wegen Auftrag 0815-4711-2023",
        "Rückruf 2024-03-12 14:00",
        "Bitte anrufen, es geht um 1.234,56 €",
    ],
)
def test_contextual_pass_respects_the_guards(text: str) -> None:
    assert redact_text(text, sender_digits=None, region="DE", visible_digits=2) == text


def test_builtin_detectors_report_spans_of_the_text() -> None:
    text = "Tel 0151 23456789 oder +41 79 123 45 67"
    detectors: list[NumberDetector] = [
        PhoneNumberMatcherDetector("DE"),
        ContextualNumberDetector("DE"),
    ]
    for detector in detectors:
        for span in detector.find(text):
            assert text[span.start : span.end].strip() == text[span.start : span.end]
            assert span.digits == re.sub(r"\D", "", text[span.start : span.end])


class _TicketDetector:
    """A further detector class plugged in through the same interface."""

    def find(self, text: str) -> list[Span]:
        return [Span(m.start(), m.end(), m.group(1)) for m in re.finditer(r"#(\d{6,})", text)]


def test_more_detectors_plug_into_the_same_interface() -> None:
    text = "Ticket #1234567, Tel 0151 23456789"
    detectors: list[NumberDetector] = [_TicketDetector(), PhoneNumberMatcherDetector("DE")]
    spans = find_numbers(text, detectors)
    assert redact_spans(text, spans, 2) == "Ticket ••• ••67, Tel +49 ••• ••••••89"


def test_earlier_detector_wins_overlaps() -> None:
    text = "Nummer 0151 12345678"
    spans = find_numbers(text, [SenderNumberDetector(SENDER), PhoneNumberMatcherDetector("DE")])
    assert len(spans) == 1
    assert spans[0].e164 == SENDER


@pytest.mark.parametrize(
    "text",
    [
        "Tel-0151 23456789",
        "Huber/0151 23456789",
        "0151 23456789/Herr Meier",
        "Bitte 030 12345678 (Zentrale) anrufen",
        "Tel 0151 23456789/0176 98765432",
        "Tel./Fax 089 1234567/089 7654321",
    ],
)
def test_glued_words_that_are_no_codes_do_not_shield_numbers(text: str) -> None:
    redacted = redact_text(text, sender_digits=None, region="DE", visible_digits=2)
    assert not re.search(r"\d{5}", redacted.replace(" ", ""))


# --- issue 12: leaks found from outside ---------------------------------------------------------


def test_changed_number_notice_masks_the_new_number_like_the_sender() -> None:
    text = "User A changed from 4915112345601 to 4917655554433"
    redacted = redact_text(text, sender_digits="4915112345601", region="DE", visible_digits=2)
    assert redacted == "User A changed from +49 ••• ••••••01 to +49 ••• ••••••33"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Angebot_0176-3344556.pdf", "Angebot_+49 ••• •••••56.pdf"),
        ("Scan_01763344556.pdf", "Scan_+49 ••• •••••56.pdf"),
        ("wa.me/4917612345678", "wa.me/+49 ••• ••••••78"),
        ("https://wa.me/4917612345678?text=Hallo", "https://wa.me/+49 ••• ••••••78?text=Hallo"),
        ("meine Nummer 4917698765432", "meine Nummer +49 ••• ••••••32"),
    ],
)
def test_issue_examples_are_masked(text: str, expected: str) -> None:
    assert redact_text(text, sender_digits=None, region="DE", visible_digits=2) == expected


def test_invisible_characters_inside_a_number_are_masked_with_it() -> None:
    text = "Nummer 0176\u200b3344\u00ad556."
    assert redact_text(text, sender_digits=None, region="DE", visible_digits=2) == (
        "Nummer +49 ••• •••••56."
    )


def test_view_maps_back_to_the_original() -> None:
    text = "Ruf_an ０１７６\u200b 33%2044556"
    view = normalise(text)
    assert view.text == "Ruf an 0176 33 44556"
    [span] = DigitRunDetector(["DE"]).find(view.text) or PhoneNumberMatcherDetector("DE").find(
        view.text
    )
    start, end = view.original(span.start, span.end)
    assert text[start:end] == "０１７６\u200b 33%2044556"


def test_plain_ascii_text_needs_no_position_map() -> None:
    view = normalise("Ruf an 0176 3344556, Grüße")
    assert (view.text, view.starts) == ("Ruf an 0176 3344556, Grüße", None)


def test_glued_run_takes_the_longest_valid_number_not_the_whole_run() -> None:
    text = "Angebot0176-3344556 2026"
    [span] = DigitRunDetector(["DE"]).find(text)
    assert text[span.start : span.end] == "0176-3344556"


def test_bare_runs_glued_to_a_code_stay() -> None:
    # A meter id, not a number (also in the corpus' must-keep list).
    assert DigitRunDetector(["DE"]).find("Zähler 1ESY4917633445566") == []


def test_every_digit_run_masks_numbers_libphonenumber_does_not_know() -> None:
    text = "User A changed from 4915112345601 to 99912345678"
    assert redact_text(text, region="DE", visible_digits=2) == (
        "User A changed from +49 ••• ••••••01 to 99912345678"
    )
    assert redact_text(text, region="DE", visible_digits=2, every_digit_run=True) == (
        "User A changed from +49 ••• ••••••01 to ••• ••••••78"
    )
    assert [s.digits for s in AnyDigitRunDetector().find(text)] == [
        "4915112345601",
        "99912345678",
    ]
