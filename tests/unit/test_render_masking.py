"""Every customer-controlled string that reaches the chat, in every notation, arrives masked.

Issue 12 ("Leaks found from outside"): a number survived in a file name, a link, a changed-number
notice. The class is "any field × any notation", so this drives real webhook payloads through
the production parser and renderer for each field a customer (or a forged payload) controls,
with the number written in each notation that once leaked, and scans the chat line the way a
reader sees it.
"""

from __future__ import annotations

import io
import json
import logging
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from adapters.whatsapp.parse import parse_webhook
from bot.domain import InboundMessage, MessageKind, Sender
from bot.explain import failure
from bot.ids import ProviderMessageId, WaId
from bot.logfilter import REDACTED, attach_to_handler
from bot.render import Masker, inbound
from bot.texts import texts_for
from tests.masking import NOTATIONS, leaked_digits
from tests.numbers import CUSTOMER, CUSTOMER_2, THIRD_PARTY
from tests.whatsapp_fixtures import envelope

MASKER = Masker(CUSTOMER, "DE", 2)
TEXTS = texts_for("en")

Content = Callable[[str], tuple[str, Any]]

# Each customer-controlled field of each message type: type name → payload with ``s`` in it.
FIELDS: dict[str, Content] = {
    "text": lambda s: ("text", {"body": s}),
    "image caption": lambda s: ("image", {"id": "m1", "caption": s}),
    "document file name": lambda s: ("document", {"id": "m1", "filename": s}),
    "document caption": lambda s: ("document", {"id": "m1", "filename": "a.pdf", "caption": s}),
    "video caption": lambda s: ("video", {"id": "m1", "caption": s}),
    "location name": lambda s: ("location", {"latitude": 48.1, "longitude": 11.5, "name": s}),
    "location address": lambda s: ("location", {"latitude": 1.0, "longitude": 2.0, "address": s}),
    "contact card name": lambda s: ("contacts", [{"name": {"formatted_name": f"Eva {s}"}}]),
    "contact card phone": lambda s: (
        "contacts",
        [{"name": {"formatted_name": "Eva"}, "phones": [{"phone": s}]}],
    ),
    "button reply title": lambda s: (
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "b", "title": s}},
    ),
    "list reply title": lambda s: (
        "interactive",
        {"type": "list_reply", "list_reply": {"id": "r", "title": s}},
    ),
    "flow reply body": lambda s: ("interactive", {"type": "nfm_reply", "nfm_reply": {"body": s}}),
    "template button text": lambda s: ("button", {"payload": "p", "text": s}),
    "reaction emoji": lambda s: ("reaction", {"message_id": "wamid.x", "emoji": s}),
    "order text": lambda s: ("order", {"catalog_id": "c", "text": s, "product_items": []}),
    "order product id": lambda s: (
        "order",
        {"catalog_id": "c", "product_items": [{"product_retailer_id": s, "quantity": 1}]},
    ),
    "edited text": lambda s: (
        "edit",
        {"original_message_id": "wamid.x", "message": {"type": "text", "text": {"body": s}}},
    ),
    "system notice": lambda s: ("system", {"body": f"User A changed to {s}"}),
    "unsupported type": lambda s: ("unsupported", {"type": s}),
}


def _render(type_name: str, content: Any) -> str:
    raw = {"from": CUSTOMER, "id": "wamid.1", "timestamp": "1", "type": type_name}
    raw[type_name] = content
    batch = parse_webhook(json.dumps(envelope(messages=[raw])).encode())
    [message] = batch.messages
    return inbound(message, MASKER, TEXTS)


@pytest.mark.parametrize("written", NOTATIONS)
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_no_field_shows_a_number_in_any_notation(field: str, written: str) -> None:
    line = _render(*FIELDS[field](written))
    assert leaked_digits(line, THIRD_PARTY) is None, line


def test_changed_number_notice_shows_both_numbers_masked() -> None:
    old, new = CUSTOMER, "4917655554433"
    line = _render("system", {"body": f"User A changed from {old} to {new}", "wa_id": new})
    assert line == "ℹ️ User A changed from +49 ••• ••••••78 to +49 ••• ••••••33"


def test_changed_number_notice_masks_a_number_libphonenumber_cannot_validate() -> None:
    line = _render("system", {"body": f"User A changed from {CUSTOMER} to 99912345678"})
    assert line == "ℹ️ User A changed from +49 ••• ••••••78 to ••• ••••••78"


def test_a_failure_title_quoting_the_recipient_is_masked() -> None:
    """Meta words unknown errors itself and may quote the number it could not reach."""
    shown = failure(131000, "Recipient +49 176 12345678 (4917612345678) failed", texts_for("en"))
    assert "12345678" not in shown and "4917612345678" not in shown
    assert "131000" in shown


def test_a_repaired_message_says_so_in_the_thread() -> None:
    """What arrived damaged (a cut emoji, an impossible time) is shown repaired, not silently."""
    message = InboundMessage(
        provider_id=ProviderMessageId("wamid.repaired"),
        sender=Sender(wa_id=WaId(CUSTOMER)),
        timestamp=1_800_000_000,
        kind=MessageKind.TEXT,
        text="Hallo \ufffd",
        repaired=True,
    )
    for language in ("en", "de"):
        texts = texts_for(language)
        line = inbound(message, MASKER, texts)
        assert line.startswith("Hallo \ufffd\n⚠")
        assert line == texts.repaired.format(text="Hallo \ufffd")


# Probe of 2026-12-02 (defect 5): posted to the chat in full, as written here.
PROBE_SPELLINGS = [
    "0151\u3164 12345678",
    "+49\u115f151\u115f12345678",
    "0151\u11601234\u11605678",
    "0151\uffa01234\uffa05678",
    "0151\u02d71234\u02d75678",
    "0151     1234     5678",
    "0151*1234*5678",
    "0151,1234,5678",
    "0151#1234#5678",
    "0151:1234:5678",
]
PROBED = "4915112345678"


@pytest.mark.parametrize("written", PROBE_SPELLINGS)
def test_probed_separators_are_masked_in_a_chat_post(written: str) -> None:
    """Sent by someone else than the number's owner: no sender pass to fall back on."""
    raw = {"from": CUSTOMER_2, "id": "wamid.1", "timestamp": "1", "type": "text"}
    raw["text"] = {"body": f"Ruf an: {written} danke"}
    [message] = parse_webhook(json.dumps(envelope(messages=[raw])).encode()).messages
    line = inbound(message, Masker(CUSTOMER_2, "DE", 2), TEXTS)
    assert leaked_digits(line, PROBED) is None, line
    assert "+49 ••• ••••••78" in line


def logged(written: str) -> str:
    """What a handler with the number filter writes for a line quoting ``written``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    attach_to_handler(handler)
    logger = logging.getLogger("empfang.test.probe")
    logger.addHandler(handler)
    try:
        logger.warning("refused: %s", written)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


@pytest.mark.parametrize("written", PROBE_SPELLINGS)
def test_probed_separators_are_masked_in_a_log_line(written: str) -> None:
    assert logged(written) == f"refused: {REDACTED}\n"


# Second probe of 2026-12-02 (D3), the strings as sent, with the number each one holds: enclosed
# and decorated digits, a separator after every digit, modifier letters as separators.
SECOND_PROBE = [
    ("Ruf an 0⑴⑺⑹ ⑼⑻⑺⑹ ⑸⑷⑶⑵", "4917698765432"),
    ("+⑷⑼ ⑴⑺⑹ ⑼⑻⑺⑹⑸⑷⑶⑵", "4917698765432"),
    ("Tel ⒈⒎⒍⒐⒏⒎⒍⒌⒋⒊⒉", "4917698765432"),
    ("+➃➈ ➀➆➅ ➈➇➆➅➄➃➂➁", "4917698765432"),
    ("0❶❼❻ ❾❽❼❻❺❹❸❷", "4917698765432"),
    ("+⓸⓽ ⓵⓻⓺ ⓽⓼⓻⓺⓹⓸⓷⓶", "4917698765432"),
    ("🄁🄂🄈🄇 🄊🄉🄈🄇🄆🄅🄄🄃", "4917698765432"),
    ("Ruf an: 🄋➂🄋 ➀➁➂➃ ➄➅➆➇", "493012345678"),
    ("Nr 0•3•0•1•2•3•4•5•6•7•8 ok", "493012345678"),
    ("Nr 0・6・6・4・1・2・3・4・5・6・7 ok", "4966412345678"),
    ("Nr 0•7•9•1•1•1•2•3•4•5•6 ok", "4979111234566"),
    ("Tel 0•3•0•1•2•3•4•5•6•7•8", "493012345678"),
    ("Nr 0•1•7•6•9•8•7•6•5•4•3•2 ok", "4917698765432"),
    ("Nr 0 • 3 • 0 • 1 • 2 • 3 • 4 • 5 • 6 • 7 • 8 ok", "493012345678"),
    ("Nr 0\v3\v0\v1\v2\v3\v4\v5\v6\v7\v8 ok", "493012345678"),
    ("Nr 0\f3\f0\f1\f2\f3\f4\f5\f6\f7\f8 ok", "493012345678"),
    # modifier letters between the groups: U+02D0, U+02BC, U+02CC
    ("Ruf an: 0176ː9876ː5432", "4917698765432"),
    ("+49ʼ176ʼ98765432", "4917698765432"),
    ("Rückruf 0176ʼ9876ʼ5432", "4917698765432"),
    ("Nr 0176ˌ9876ˌ5432", "4917698765432"),
    # a "(0)" after +1, and French groups that begin like a date or a time
    ("+1 (0) 212 7365000", "12127365000"),
    ("Nr 06. 12. 34. 56. 78 ok", "33612345678"),
    ("Nr 06﹕12﹕34﹕56﹕78 ok", "33612345678"),
    ("Nr 06：12：34：56：78 ok", "33612345678"),
]


def _all_digits(text: str) -> str:
    return "".join(
        str(unicodedata.digit(ch)) for ch in text if unicodedata.digit(ch, None) is not None
    )


@pytest.mark.parametrize(("written", "e164"), SECOND_PROBE)
def test_second_probe_numbers_are_masked_in_a_chat_post(written: str, e164: str) -> None:
    raw = {"from": CUSTOMER_2, "id": "wamid.1", "timestamp": "1", "type": "text"}
    raw["text"] = {"body": written}
    [message] = parse_webhook(json.dumps(envelope(messages=[raw])).encode()).messages
    line = inbound(message, Masker(CUSTOMER_2, "DE", 2), TEXTS)
    assert leaked_digits(line, e164) is None, line
    assert e164[-9:] not in _all_digits(line), line
    assert "•" in line, line


@pytest.mark.parametrize(
    "written", ["06. 12. 34. 56. 78", "06﹕12﹕34﹕56﹕78", "06：12：34：56：78"]
)
def test_a_french_number_is_no_date_or_time_for_a_french_customer(written: str) -> None:
    line = Masker("33698765432", "FR", 2).text(f"Nr {written} ok")
    assert line == "Nr +33 ••• ••••78 ok"


@pytest.mark.parametrize(
    ("region", "written", "masked"),
    [
        ("US", "201•555•0123", "+1 ••• •••••23"),
        ("US", "2•0•1•5•5•5•0•1•2•3", "+1 ••• •••••23"),
        ("US", "201\v555\v0123", "+1 ••• •••••23"),
        ("IT", "312：345：6789", "+39 ••• •••••89"),
    ],
)
def test_a_national_number_without_a_trunk_prefix_is_read_across_marks(
    region: str, written: str, masked: str
) -> None:
    """The matcher reads "201 555 0123" but not the same joined by marks (probe 2, D3)."""
    assert Masker("33698765432", region, 2).text(f"Nr {written} ok") == f"Nr {masked} ok"


def test_a_trunk_zero_set_apart_is_no_digit_before_a_country_code() -> None:
    """ "0•1•7•6…" was masked as "0•+1 ••• •••••32": '1' read as the US country code."""
    line = MASKER.text("Nr 0•1•7•6•9•8•7•6•5•4•3•2 ok")
    assert line == "Nr +49 ••• ••••••32 ok"


@pytest.mark.parametrize(("written", "e164"), SECOND_PROBE)
def test_second_probe_numbers_are_masked_in_a_log_line(written: str, e164: str) -> None:
    line = logged(written)
    assert REDACTED in line
    assert leaked_digits(line, e164) is None, line
