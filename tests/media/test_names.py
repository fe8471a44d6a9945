"""File names keep their meaning and lose every phone number (``bot.media.names``)."""

from __future__ import annotations

import pytest

from bot import render
from bot.domain import InboundMessage, Media, MessageKind, Sender
from bot.ids import ProviderMessageId, WaId
from bot.media.names import mask_filename
from bot.render import Masker
from bot.texts import ENGLISH
from tests.masking import NOTATIONS, leaked_digits
from tests.numbers import THIRD_PARTY

MASKER = Masker("4917633445566", "DE", 2)


@pytest.mark.parametrize(
    ("name", "digits"),
    [
        ("Rechnung_0171234567.pdf", "0171234567"),
        ("Angebot_0176-3344556.pdf", "01763344556"),
        ("Scan_01763344556.pdf", "01763344556"),
        ("Scan_0176_3344556.pdf", "01763344556"),
        ("Rechnung0171234567.pdf", "0171234567"),
        ("Foto.4917633445566.jpg", "4917633445566"),
        ("Kunde +49 176 33445566.docx", "4917633445566"),
        ("0171.234.567.pdf", "0171234567"),
    ],
)
def test_numbers_glued_into_names_are_masked(name: str, digits: str) -> None:
    masked = mask_filename(name, MASKER)
    assert "".join(ch for ch in masked if ch.isdigit()) != digits
    assert digits[-7:] not in "".join(ch for ch in masked if ch.isdigit())
    assert masked.endswith(name[name.rindex(".") :])
    assert masked[:4] == name[:4] or name[0].isdigit()


@pytest.mark.parametrize("notation", NOTATIONS)
def test_no_notation_of_a_number_survives_in_a_name(notation: str) -> None:
    for name in (f"Scan_{notation}.pdf", f"{notation}.jpg", f"Rechnung {notation}.pdf"):
        assert leaked_digits(mask_filename(name, MASKER), THIRD_PARTY) is None, name


@pytest.mark.parametrize(
    "name",
    [
        "IMG-20240312-WA0001.jpg",
        "Bild 2024.03.12.png",
        "Rechnung 2024-03.pdf",
        "Vertrag.pdf",
        "Party \U0001fae8.jpg",  # an emoji newer than this Python's Unicode (Cn) stays
    ],
)
def test_dates_and_words_stay_readable(name: str) -> None:
    assert mask_filename(name, MASKER) == name


def test_paths_and_control_characters_cannot_reach_a_file_system() -> None:
    assert mask_filename("../../etc/passwd", MASKER) == ".._.._etc_passwd"
    assert mask_filename("a\nb\\c.txt", MASKER) == "a_b_c.txt"
    assert mask_filename("", MASKER) == "file"
    assert len(mask_filename("x" * 500 + ".pdf", MASKER)) == 200


def test_the_customers_line_masks_the_file_name_the_same_way() -> None:
    message = InboundMessage(
        provider_id=ProviderMessageId("wamid.x"),
        sender=Sender(wa_id=WaId("4917633445566")),
        timestamp=1_700_000_000,
        kind=MessageKind.DOCUMENT,
        media=Media(media_id="1", filename="Rechnung_0176-12345678.pdf"),
    )
    line = render.inbound(message, MASKER, ENGLISH)
    assert "Rechnung_" in line and ".pdf" in line
    assert leaked_digits(line, THIRD_PARTY) is None
