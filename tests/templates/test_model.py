"""Templates as data: the catalogue entries Meta lists, a command's parts, the send body."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapters.whatsapp.templates import from_graph, next_cursor, template_object
from bot.config import PrivacySection, WhatsAppSection
from bot.templates.model import MessageTemplate
from bot.templates.sending import Wanted, choose, parse_command
from bot.texts import ENGLISH

ORDER = {
    "name": "order_update",
    "language": "de",
    "category": "UTILITY",
    "status": "APPROVED",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Bestellung {{1}}"},
        {"type": "BODY", "text": "Hallo {{1}}, {{2}} ist unterwegs. Grüße {{1}}"},
        {"type": "FOOTER", "text": "STOP zum Abmelden"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Danke"}]},
    ],
}


def test_a_catalogue_entry_counts_header_and_body_placeholders() -> None:
    template = from_graph(ORDER)
    assert template is not None and template.sendable
    assert template.parameter_count == 3  # header {{1}}; body {{1}}, {{2}} ({{1}} twice)
    assert template.render(["A-1", "Erika", "das Paket"]) == (
        "Bestellung A-1\nHallo Erika, das Paket ist unterwegs. Grüße Erika\n"
        "STOP zum Abmelden\n[Danke]"
    )
    message = template.message(["A-1", "Erika", "das Paket"])
    assert template_object(message) == {
        "name": "order_update",
        "language": {"code": "de"},
        "components": [
            {"type": "header", "parameters": [{"type": "text", "text": "A-1"}]},
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Erika"},
                    {"type": "text", "text": "das Paket"},
                ],
            },
        ],
    }


def test_media_headers_button_parameters_and_named_parameters_are_not_sendable() -> None:
    media = {**ORDER, "components": [{"type": "HEADER", "format": "IMAGE"}, ORDER["components"][1]]}
    url = {
        **ORDER,
        "components": [
            {"type": "BODY", "text": "Hi"},
            {"type": "BUTTONS", "buttons": [{"type": "URL", "url": "https://x.example/{{1}}"}]},
        ],
    }
    named = {**ORDER, "parameter_format": "NAMED"}
    for raw in (media, url, named):
        template = from_graph(raw)
        assert template is not None and not template.sendable
    assert from_graph({"language": "de"}) is None


def test_paging_follows_next_only() -> None:
    assert next_cursor({"data": [], "paging": {"cursors": {"after": "QVFI"}}}) is None
    assert next_cursor({"paging": {"cursors": {"after": "QVFI"}, "next": "https://…"}}) == "QVFI"


def test_a_command_names_the_language_only_when_the_template_has_it() -> None:
    languages = {"de", "en_us"}
    assert parse_command("order_update en_US Erika | A-1", languages).language == "en_US"
    wanted = parse_command("Order_Update Erika  Musterfrau | A-1 ", languages)
    assert (wanted.name, wanted.language) == ("order_update", None)
    assert wanted.parameters == ["Erika  Musterfrau", "A-1"]
    assert parse_command("hello_world", {"en_us"}).parameters == []
    assert parse_command("x de|y", languages).parameters == ["y"]


def test_a_template_without_parameters_renders_its_text() -> None:
    template = MessageTemplate(name="t", language="de", body="Guten Tag.")
    assert template.parameter_count == 0 and template.render([]) == "Guten Tag."


def test_a_reengage_template_needs_the_account_and_a_plain_name() -> None:
    WhatsAppSection(waba_id="1", reengage_template="follow_up de")
    with pytest.raises(ValidationError, match="needs waba_id"):
        WhatsAppSection(reengage_template="follow_up")
    with pytest.raises(ValidationError, match="name language"):
        WhatsAppSection(waba_id="1", reengage_template="follow_up de Erika")
    with pytest.raises(ValidationError, match="team_name"):
        PrivacySection(sign_replies="team")


def test_a_rejected_translation_does_not_make_the_language_ambiguous() -> None:
    german = MessageTemplate(name="t", language="de", body="Hallo {{1}}")
    english = german.model_copy(update={"language": "en_US", "status": "REJECTED"})
    assert choose([german, english], Wanted("t", None, ["Erika"]), ENGLISH) == german
    refused = choose([german, english], Wanted("t", "en_US", ["Erika"]), ENGLISH)
    assert refused == ENGLISH.template_language_unknown.format(
        name="t", language="en_US", languages="de"
    )
