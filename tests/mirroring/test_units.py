"""The pure parts of mirroring: wire shapes in and out, emoji, ``!buttons``, rendering."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.matrix.relations import quoted_event, to_agent_reaction
from adapters.slack.reactions import emoji_for, name_for, parse_reaction
from adapters.whatsapp.parse import parse_webhook
from bot import render
from bot.commands import parse
from bot.domain import InboundMessage, MessageKind
from bot.mirror.buttons import parse_buttons
from bot.mirror.emoji import is_emoji
from bot.texts import ENGLISH
from tests.masking import leaked_digits
from tests.numbers import CUSTOMER

MASKER = render.Masker(CUSTOMER, "DE", 2)


def webhook(message: dict[str, Any], field: str = "messages") -> bytes:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
    }
    if field == "messages":
        value["contacts"] = [{"profile": {"name": "Erika"}, "wa_id": CUSTOMER}]
        value["messages"] = [
            {"from": CUSTOMER, "id": "wamid.A", "timestamp": "1749416383", **message}
        ]
    else:
        value["message_echoes"] = [message]
    doc = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": field, "value": value}]}],
    }
    return json.dumps(doc).encode()


def line(message: dict[str, Any]) -> str:
    [parsed] = parse_webhook(webhook(message)).messages
    return render.inbound(parsed, MASKER, ENGLISH)


@pytest.mark.parametrize(
    ("reply", "shown"),
    [
        ({"response": "accept", "is_permanent": False}, "📞 Call permission: accepted"),
        (
            {"response": "accept", "is_permanent": True},
            "📞 Call permission: accepted (permanently)",
        ),
        ({"response": "reject", "response_source": "user_action"}, "📞 Call permission: declined"),
    ],
)
def test_a_call_permission_answer_says_what_was_answered(reply: dict[str, Any], shown: str) -> None:
    interactive = {"type": "call_permission_reply", "call_permission_reply": reply}
    assert line({"type": "interactive", "interactive": interactive}) == shown


def test_an_interactive_answer_without_a_title_never_shows_an_empty_choice() -> None:
    interactive = {"type": "payment_method", "payment_method": {"id": "card-1"}}
    assert line({"type": "interactive", "interactive": interactive}) == "🔘 Chose: card-1"


def test_a_referral_names_the_ad_with_numbers_masked() -> None:
    referral = {
        "source_url": f"https://fb.me/x?phone={CUSTOMER}",
        "source_type": "ad",
        "headline": f"Rückruf unter +{CUSTOMER}",
        "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ",
    }
    shown = line({"type": "text", "text": {"body": "Hallo"}, "referral": referral})
    assert shown.startswith("📣 Came from an ad: Rückruf unter") and shown.endswith("\nHallo")
    assert leaked_digits(shown, CUSTOMER) is None


def test_business_app_echoes_are_parsed_from_their_own_field() -> None:
    echo = {
        "from": "15550783881",
        "to": CUSTOMER,
        "id": "wamid.E",
        "timestamp": "1697043223",
        "type": "text",
        "text": {"body": "Test message"},
    }
    batch = parse_webhook(webhook(echo, field="smb_message_echoes"))
    assert [(e.to, e.text) for e in batch.echoes] == [(CUSTOMER, "Test message")]
    assert batch.unsupported == () and batch.messages == ()


def test_an_edited_or_deleted_line_renders_as_such() -> None:
    base = InboundMessage.model_validate(
        {"provider_id": "wamid.A", "sender": {"wa_id": CUSTOMER}, "timestamp": 1, "kind": "text"}
    )
    edited = base.model_copy(update={"text": "neu", "edited": True})
    deleted = base.model_copy(update={"kind": MessageKind.REVOKE, "target_id": base.provider_id})
    assert render.inbound(edited, MASKER, ENGLISH) == "neu ✏️ (edited)"
    assert render.inbound(deleted, MASKER, ENGLISH) == "🗑 The customer deleted this message"


@pytest.mark.parametrize("text", ["👍", "👍🏽", "❤️", "🇩🇪", "👨‍👩‍👧", "1️⃣", "😮"])
def test_emoji_are_emoji(text: str) -> None:
    assert is_emoji(text)


@pytest.mark.parametrize("text", ["", "+1", "lol", "1", "👍 ok", "👍" * 17, CUSTOMER])
def test_text_is_not_an_emoji(text: str) -> None:
    assert not is_emoji(text)


@pytest.mark.parametrize(
    ("argument", "problem"),
    [
        ("Passt Dienstag?", ENGLISH.buttons_usage),
        ("| Ja | Nein", ENGLISH.buttons_usage),
        ("Passt? | Ja | Nein | Vielleicht | Nie", ENGLISH.buttons_usage),
        ("Passt? | Ja | Ja", ENGLISH.buttons_usage),
        ("Passt? | Ja | ", ENGLISH.buttons_usage),
        (
            "Passt? | Ja | 012345678901234567890",
            ENGLISH.buttons_too_long.format(index=2, length=21),
        ),
    ],
)
def test_buttons_outside_whatsapps_limits_are_refused_with_what_to_change(
    argument: str, problem: str
) -> None:
    assert parse_buttons(argument, ENGLISH) == problem


def test_buttons_within_the_limits() -> None:
    parsed = parse("!buttons Passt Dienstag? | Ja | Nein, am Mittwoch", reply_mode="all")
    assert parsed.intent == "buttons"
    buttons = parse_buttons(parsed.text, ENGLISH)
    assert not isinstance(buttons, str)
    assert (buttons.text, buttons.options) == ("Passt Dienstag?", ("Ja", "Nein, am Mittwoch"))


def test_slack_names_and_emoji_map_both_ways() -> None:
    assert emoji_for("thumbsup") == "👍" and emoji_for("+1") == "👍"
    assert emoji_for("thumbsup::skin-tone-5") == "👍🏾"
    assert emoji_for("partyparrot") is None
    assert name_for("❤️") == name_for("❤") == "heart"
    assert name_for("👍🏽") == "+1", "Slack's name; the tone is dropped"
    assert name_for("🦩") is None


def test_slack_reaction_events_name_the_same_reaction_when_removed() -> None:
    event: dict[str, Any] = {
        "type": "reaction_added",
        "user": "U1",
        "reaction": "heart",
        "item_user": "U0BOT",
        "item": {"type": "message", "channel": "C1", "ts": "1700000000.000100"},
        "event_ts": "1700000001.000100",
    }
    added = parse_reaction(event, {"C1", "C3"})
    removed = parse_reaction({**event, "type": "reaction_removed"}, {"C1", "C3"})
    assert added is not None and removed is not None
    assert added.reaction_id == removed.reaction_id and removed.removed and not added.removed
    assert added.channel_id == "C1"
    assert parse_reaction(event, {"C2"}) is None
    assert parse_reaction({**event, "item": {"type": "file", "file": "F1"}}, {"C1"}) is None
    elsewhere = parse_reaction({**event, "item": {**event["item"], "channel": "C3"}}, {"C1", "C3"})
    assert elsewhere is not None and elsewhere.channel_id == "C3"


def test_matrix_reactions_redactions_and_quote_replies() -> None:
    reaction = {
        "type": "m.reaction",
        "event_id": "$r",
        "sender": "@anna:x",
        "content": {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$m", "key": "👍"}},
    }
    added = to_agent_reaction(
        reaction, author_name="Anna", author_is_member=True, own_user_id="@bot:x"
    )
    assert added is not None and (added.target_id, added.emoji, added.removed) == (
        "$m",
        "👍",
        False,
    )
    redaction = {
        "type": "m.room.redaction",
        "event_id": "$x",
        "sender": "@anna:x",
        "redacts": "$r",
        "content": {},
    }
    removed = to_agent_reaction(
        redaction, author_name="Anna", author_is_member=True, own_user_id="@bot:x"
    )
    assert removed is not None and (removed.reaction_id, removed.removed) == ("$r", True)
    fallback = {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$last"},
    }
    quote = {**fallback, "is_falling_back": False, "m.in_reply_to": {"event_id": "$m"}}
    assert quoted_event({"m.relates_to": fallback}) is None
    assert quoted_event({"m.relates_to": quote}) == "$m"
    assert quoted_event({"m.relates_to": {"m.in_reply_to": {"event_id": "$m"}}}) == "$m"
