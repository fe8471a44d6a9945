"""Recall and false-positive corpus for number redaction (privacy.md, checklist item 6).

Realistic German, Austrian and Swiss customer messages. Every number in ``MUST_MASK`` is a
valid number for the stated region (checked below, so the corpus cannot rot into testing
invalid numbers), and must disappear; every sentence in ``MUST_KEEP`` must come back byte for
byte in each of the three regions, because a masked date or order number makes a message
useless to the agent.
"""

from __future__ import annotations

import re

import phonenumbers
import pytest

from bot.privacy import mask_number, redact_text
from tests.masking import leaked_digits

# (message, customer region, numbers exactly as written in the message)
MUST_MASK: list[tuple[str, str, tuple[str, ...]]] = [
    # Germany
    ("Hallo, bitte rufen Sie mich unter 0151 23456789 zurück.", "DE", ("0151 23456789",)),
    ("Meine Handynummer ist +49 171 2345678, ab 17 Uhr erreichbar.", "DE", ("+49 171 2345678",)),
    ("Sie erreichen mich im Büro unter 030 12345678.", "DE", ("030 12345678",)),
    ("Tel.: 089/1234567 (Praxis Dr. Huber)", "DE", ("089/1234567",)),
    ("Unsere Filiale hat die 040 1234567, fragen Sie nach Frau Schulz.", "DE", ("040 1234567",)),
    ("Kostenlos erreichbar unter 0800 1234567, Mo bis Fr.", "DE", ("0800 1234567",)),
    ("Bitte an meinen Mann weiterleiten: 0176 98765432", "DE", ("0176 98765432",)),
    ("Können Sie meine Frau zurückrufen? 0049 160 1234567", "DE", ("0049 160 1234567",)),
    ("Festnetz 0221-1234567, mobil bin ich schlecht erreichbar", "DE", ("0221-1234567",)),
    ("Neue Nummer!! +4915212345678", "DE", ("+4915212345678",)),
    ("Die Werkstatt hat angerufen, Rückrufnummer 069 12345678.", "DE", ("069 12345678",)),
    ("Ich bin ab Montag unter (0711) 1234567 zu erreichen.", "DE", ("(0711) 1234567",)),
    ("Bitte bei der Nachbarin abgeben, Tel 0157 12345678.", "DE", ("0157 12345678",)),
    ("Meine alte Nummer 0172 1234567 bitte löschen.", "DE", ("0172 1234567",)),
    ("Für Rückfragen: +49 (0)341 1234567", "DE", ("+49 (0)341 1234567",)),
    ("Der Monteur soll sich bei 0911 123456 melden.", "DE", ("0911 123456",)),
    ("Schreiben Sie mir lieber auf WhatsApp an +49 176 12345678", "DE", ("+49 176 12345678",)),
    ("Rückruf bitte am 12.03.2024 unter 0151 23456789.", "DE", ("0151 23456789",)),
    ("Bestellung 4711 ist da, ruf mich an unter 030 98765432", "DE", ("030 98765432",)),
    ("Meine Nummer:\u00a00160\u00a09876543 (geschäftlich)", "DE", ("0160\u00a09876543",)),
    ("Bitte Tel 0151 23456789 vom Euro-Shop anrufen", "DE", ("0151 23456789",)),
    ("Fr. Huber/0176 98765432 hat den Schlüssel.", "DE", ("0176 98765432",)),
    # Austria
    ("Grüß Gott, bitte um Rückruf unter +43 664 1234567.", "AT", ("+43 664 1234567",)),
    ("Bin unter 0664 1234567 erreichbar, danke!", "AT", ("0664 1234567",)),
    ("Die Nummer vom Geschäft in Wien ist 01 5868686.", "AT", ("01 5868686",)),
    ("Rufen S' mich bitte an: 0699 12345678", "AT", ("0699 12345678",)),
    ("Meine Schwester hat die 0676 1234567, bitte dort melden.", "AT", ("0676 1234567",)),
    ("Büro Graz: 0316 123456, Handy: 0650 1234567", "AT", ("0316 123456", "0650 1234567")),
    ("Bitte kontaktieren Sie meinen Vater unter 0043 732 123456.", "AT", ("0043 732 123456",)),
    ("Die Servicehotline 0800 123456 war leider besetzt.", "AT", ("0800 123456",)),
    (
        "Ich wohne in Salzburg, bin aber unter +49 151 23456789 erreichbar.",
        "AT",
        ("+49 151 23456789",),
    ),
    # Switzerland
    ("Grüezi, bitte rufen Sie mich an: +41 79 123 45 67", "CH", ("+41 79 123 45 67",)),
    ("Mini Natelnummer isch 079 123 45 67.", "CH", ("079 123 45 67",)),
    ("Sie erreichen mich tagsüber unter 044 123 45 67.", "CH", ("044 123 45 67",)),
    ("Bitte zurückrufen auf 076 123 45 67, merci!", "CH", ("076 123 45 67",)),
    ("Das Büro in Bern hat die Nummer 031 123 45 67.", "CH", ("031 123 45 67",)),
    ("Die Gratisnummer 0800 123 456 funktioniert nicht.", "CH", ("0800 123 456",)),
    ("Meine neue Nummer: 0041 78 123 45 67", "CH", ("0041 78 123 45 67",)),
    ("Können Sie meinen Mann unter 061 123 45 67 erreichen?", "CH", ("061 123 45 67",)),
    ("Bitte unter 044 123 45 67 Fr. Meier verlangen.", "CH", ("044 123 45 67",)),
    (
        "Mein deutsches Handy: +49 171 2345678, mein Schweizer: +41 79 765 43 21",
        "CH",
        ("+49 171 2345678", "+41 79 765 43 21"),
    ),
]

MUST_KEEP: list[str] = [
    "Ich habe am 12.03.2024 bestellt und noch nichts bekommen.",
    "Lieferung laut Mail am 2024-03-12, Zeitfenster 14:30 bis 16:00 Uhr.",
    "Können wir den Termin auf 03.04.2023 um 9.15 Uhr verschieben?",
    "Zeitraum vom 01.02.2023 bis 03.04.2023 bitte stornieren.",
    "Am 03.12.2024 war ich nicht zu Hause.",
    "Meine Adresse: Marienplatz 8, 80331 München.",
    "Lieferadresse: Stephansplatz 1, 1010 Wien",
    "Bitte nach CH-8001 Zürich liefern, nicht nach D-78462 Konstanz.",
    "Die Rechnung über 1.234,56 € ist schon bezahlt.",
    "Ich habe EUR 49,90 überwiesen, nicht 59,90.",
    "Bei uns kostet das CHF 1'249.- inkl. MwSt.",
    "Meine Bestellnummer 4711-2023-0815, bitte prüfen.",
    "Es geht um Rechnung RE-2024-00123 vom 05.01.2024.",
    "Kundennr. 123456789, Vertragsnummer 0301234567",
    "Kundennummer: 0123456789",
    "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX",
    "Bitte auf AT61 1904 3002 3457 3201 zurücküberweisen.",
    "Das Buch hat die ISBN 978-3-16-148410-0.",
    "Alte Auflage: ISBN 0-306-40615-2",
    "Sendungsnummer 00340434161094042557 zeigt keine Bewegung.",
    "Tracking: 1Z999AA10123456784 (UPS)",
    "Die Paketnummer lautet 0034 0434 1610 9404 2557.",
    "Im Anhang IMG-20240312-WA0001.jpg und Rechnung_2024_0815.pdf",
    "Auftrag 0815-4711-2023 wurde am 12.03. storniert.",
    "Zählerstand 12345 kWh, Zählernummer 1ESY1161234567.",
    "Wir sind 3 Personen, Ankunft 18:45, Abfahrt 07:10.",
    "Das Angebot Nr. 2024-0042 über 3.500,00 € passt.",
    "Ihre Referenz 0441234567 habe ich angegeben.",
    "Reservierungsnummer 0800123456 für Samstag, 19:30.",
    "USt-IdNr. DE123456789, Steuernummer 143/123/45678",
    "Preisliste vom 1.7.2024: 19,99 €, 24,95 € und 129,00 €.",
    "Rechnungsnummer 2024/000815 über 89,00 Euro",
]

REGIONS = ("DE", "AT", "CH")


def _e164(written: str, region: str) -> str:
    parsed = phonenumbers.parse(written, region)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def _nsn(written: str, region: str) -> str:
    return str(phonenumbers.national_significant_number(phonenumbers.parse(written, region)))


@pytest.mark.parametrize(("message", "region", "numbers"), MUST_MASK)
def test_corpus_numbers_are_valid(message: str, region: str, numbers: tuple[str, ...]) -> None:
    for written in numbers:
        assert written in message
        assert phonenumbers.is_valid_number(phonenumbers.parse(written, region)), written


@pytest.mark.parametrize(("message", "region", "numbers"), MUST_MASK)
def test_every_number_is_masked(message: str, region: str, numbers: tuple[str, ...]) -> None:
    redacted = redact_text(message, sender_digits=None, region=region, visible_digits=2)

    digit_runs = re.findall(r"\d+", redacted)
    for written in numbers:
        assert written not in redacted
        assert mask_number(_e164(written, region), 2) in redacted
        nsn = _nsn(written, region)
        # Checklist item 4: not even five consecutive digits of the number survive.
        for i in range(len(nsn) - 4):
            assert not any(nsn[i : i + 5] in run for run in digit_runs), (nsn[i : i + 5], redacted)


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("message", MUST_KEEP)
def test_non_phone_numbers_stay_unchanged(message: str, region: str) -> None:
    assert redact_text(message, sender_digits=None, region=region, visible_digits=2) == message


def test_corpus_sizes() -> None:
    assert len(MUST_MASK) >= 30
    assert len(MUST_KEEP) >= 20
    assert {region for _, region, _ in MUST_MASK} == set(REGIONS)


# --- every way a number can be written (issue 12, "Leaks found from outside") ------------------
# (message, customer region, E.164 digits of every number in it). The notation is the point, so
# the numbers are given as E.164 instead of "as written": libphonenumber cannot parse most of
# these notations, which is exactly why they leaked.
THIRD = "4917633445566"  # +49 176 33445566
SHORT = "491763344556"  # +49 176 3344556, the example
AT_MOBILE = "436641234567"
CH_MOBILE = "41791234567"

MUST_MASK_NOTATIONS: list[tuple[str, str, tuple[str, ...]]] = [
    # separators a parser does not know
    ("Bitte an 0176_3344_556 zurückrufen", "DE", (SHORT,)),
    ("Nummer 0176\u200b3344\u200c556, danke", "DE", (SHORT,)),
    ("Nummer 0176\u200d33\u206044556", "DE", (SHORT,)),
    ("Nummer \ufeff0176 3344556", "DE", (SHORT,)),
    ("Nummer 0176\u00ad33\u00ad44556", "DE", (SHORT,)),
    ("Ruf an: +49\u2009176\u202f3344556", "DE", (SHORT,)),
    ("Ruf an: 0176\u2007\u20033344556", "DE", (SHORT,)),
    ("Ruf an: 0176 _ 3344556", "DE", (SHORT,)),
    ("Nummer 0176\n3344556", "DE", (SHORT,)),
    ("Nummer 0176\t33 44 556", "DE", (SHORT,)),
    ("Nummer 0176·334·4556", "DE", (SHORT,)),
    ("Ruf an 0176📞3344556 oder ☎️ 0176 ☎ 3344556", "DE", (SHORT,)),
    # two numbers in one run of digits and separators
    ("Ich: 0151 23456789 0176 33445566", "DE", ("4915123456789", THIRD)),
    ("Ich: 0151 23456789\n0176 33445566\nDanke", "DE", ("4915123456789", THIRD)),
    ("Zentrale 030 1234567 0176 33445566", "DE", ("49301234567", THIRD)),
    ("Kunde 4711 0176 33445566", "DE", (THIRD,)),
    # international with the country code apart but without '+'
    ("Handy: 49 176 33445566", "DE", (THIRD,)),
    ("Natel 41-79-123-45-67", "CH", (CH_MOBILE,)),
    # other digits
    ("Meine Nummer: ０１７６ ３３４４５５６", "DE", (SHORT,)),
    ("Meine Nummer: ＋４９ １７６ ３３４４５５６", "DE", (SHORT,)),
    ("رقمي ٠١٧٦٣٣٤٤٥٥٦ شكرا", "DE", (SHORT,)),
    ("Nummer ۰۱۷۶۳۳۴۴۵۵۶", "DE", (SHORT,)),
    ("Nummer ०१७६३३४४५५६", "DE", (SHORT,)),
    ("Nummer ⓪①⑦⑥ ③③④④⑤⑤⑥", "DE", (SHORT,)),
    ("Nummer ⁰¹⁷⁶³³⁴⁴⁵⁵⁶", "DE", (SHORT,)),
    ("Nummer 0\ufe0f\u20e31\ufe0f\u20e37\ufe0f\u20e36\ufe0f\u20e3 3344556", "DE", (SHORT,)),
    # glued to words and underscores (file names)
    ("📄 Angebot_0176-3344556.pdf", "DE", (SHORT,)),
    ("Scan_01763344556.pdf", "DE", (SHORT,)),
    ("Angebot0176-3344556.pdf", "DE", (SHORT,)),
    ("Foto_+4917633445566_neu.jpg", "DE", (THIRD,)),
    ("Rückruf:01763344556!", "DE", (SHORT,)),
    ("Kontakt_Huber_0664-1234567.vcf", "AT", (AT_MOBILE,)),
    ("Offerte_079_123_45_67.pdf", "CH", (CH_MOBILE,)),
    # links and identifiers
    ("wa.me/4917633445566", "DE", (THIRD,)),
    ("https://wa.me/4917633445566?text=Hallo%20Frau%20Meier", "DE", (THIRD,)),
    ("https://api.whatsapp.com/send?phone=4917633445566&text=Hi", "DE", (THIRD,)),
    ("tel:+4917633445566", "DE", (THIRD,)),
    ("<a href='tel:01763344556'>anrufen</a>", "DE", (SHORT,)),
    ("https://example.de/kontakt#0176-3344556", "DE", (SHORT,)),
    ("https://wa.me/?text=Ruf%20mich%20an%200176%203344556", "DE", (SHORT,)),
    ("https://wa.me/?text=Ruf+mich+an+0176+3344556", "DE", (SHORT,)),
    ("https://wa.me/?text=%2B49%20176%203344556", "DE", (SHORT,)),
    ("https://wa.me/?text=0176%E2%80%8B3344556", "DE", (SHORT,)),
    ("https://wa.me/?text=0176%C2%A03344556", "DE", (SHORT,)),
    ("https://wa.me/?text=%30%31%37%36%33%33%34%34%35%35%36", "DE", (SHORT,)),
    # international numbers without '+' or '00', as WhatsApp writes wa_ids
    ("Meine neue Nummer ist 4917633445566", "DE", (THIRD,)),
    ("Die Nummer meiner Tochter: 436641234567", "DE", (AT_MOBILE,)),
    ("Schreib mir auf 41791234567", "AT", (CH_MOBILE,)),
    ("User A changed from 4915112345678 to 4917633445566", "DE", ("4915112345678", THIRD)),
    # fields the chat shows: profile names, location labels, button titles, order text
    ("Erika 4917633445566", "DE", (THIRD,)),
    ("Praxis Dr. Huber, Tel.0176/3344556", "DE", (SHORT,)),
    ("Rückruf unter 0176-3344556 ✅", "DE", (SHORT,)),
    ("2 × SKU-A1; bitte anrufen 4917633445566", "DE", (THIRD,)),
]

MUST_KEEP_NOTATIONS: list[str] = [
    "IMG_20240312_143000.jpg",
    "VID-20240312-WA0001.mp4",
    "PXL_20240312_143000123.jpg",
    "Screenshot_20240312-143000.png",
    "Scan_2024-03-12.pdf",
    "Rechnung_RE-2026-004711.pdf",
    "Es geht um die Rechnung RE-2026-004711 über 1.299,00 €.",
    "Kontoauszug_DE89370400440532013000.pdf",
    "Sendungsnummer_00340434161094042557",
    "Version 2.14.3, Build 20240312",
    "Termin am 12.03.\u200b2026 um 14:30",
    "Lieferung nach 80331 München, Zeit 08:15:30",
    "Bestellung #4711-0815-2026",
    "EAN 4006381333931",
    "https://shop.example/produkt/4006381333931",
    "https://shop.example/order?id=2026004711&step=2",
    "Unix-Zeit 1764547200",
    "Preis: １２,５０ €",
    "Termin ２０２６-０３-１２",
    "https://example.de/blog/2024/03/12/angebot",
    "Artikel_123456_rot.jpg",
    "Kundennummer_0123456789.pdf",
    "Musterstraße 12\n80331 München",
    "Bestellung 4711\n2024 geliefert",
    "Pos 1\n10 Stück\n49 Euro",
    "Das kostet 12 345 678 901 Euro",
    "Wir sind 49 176 Leute",
    "Zimmer 44 123 456 789",
    "Die Paketnummer lautet\n0034 0434 1610 9404 2557",
    "Wohnfläche 120 m², Grundstück 450 m², Baujahr 1998",
    "Schritt ① bis ⑤ erledigt, Tabelle ² und ³ folgen",
    "⭐⭐⭐⭐⭐ 5 Sterne für Bestellung 2024·0815·4711 🎉 ©2026",
    "Auftrag 2024 0815 4711 ist da",
    # punctuation joins digit groups only into valid numbers (defect 5): amounts, times, lists
    "Die Einwohnerzahl liegt bei 1,234,567.",
    "Treffen um 12:30, danach 14:45 bis 16:00.",
    "Termin 08:00-17:00, Pause 12:00:00-12:30:00",
    "Ergebnis 3:1, Halbzeit 1:0, Verhältnis 1:50000",
    "Größen 36, 38, 40, 42 und 44 vorrätig",
    "Maße 120*80*45 cm, Menge 10 * 12 * 14 Stück",
    "Bestellung #4711, #4712 und #4713",
    "Koordinaten 52.520008, 13.404954",
    "Lottozahlen: 3, 11, 17, 23, 38, 45",
    "Zeitstempel 00:12:34,567",
]


@pytest.mark.parametrize(("message", "region", "numbers"), MUST_MASK_NOTATIONS)
def test_corpus_notation_numbers_are_valid(
    message: str, region: str, numbers: tuple[str, ...]
) -> None:
    for e164 in numbers:
        assert phonenumbers.is_valid_number(phonenumbers.parse("+" + e164)), e164


@pytest.mark.parametrize(("message", "region", "numbers"), MUST_MASK_NOTATIONS)
def test_every_notation_is_masked(message: str, region: str, numbers: tuple[str, ...]) -> None:
    redacted = redact_text(message, sender_digits=None, region=region, visible_digits=2)
    for e164 in numbers:
        assert mask_number(e164, 2) in redacted, redacted
        assert leaked_digits(redacted, e164) is None, redacted


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("message", MUST_KEEP_NOTATIONS)
def test_identifiers_in_any_notation_stay_unchanged(message: str, region: str) -> None:
    assert redact_text(message, sender_digits=None, region=region, visible_digits=2) == message
