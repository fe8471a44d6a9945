"""Graph API side: error answers, validation of ``POST /{phone_number_id}/messages``, and the
account answers ``empfang check-config --online`` reads (``GET /{phone_number_id}``,
``GET /{waba_id}/subscribed_apps``).

The sandbox must refuse what Meta refuses, with the same HTTP status and ``code``, because the
bot's retry/dead-letter decision is made from exactly those (``adapters/whatsapp/errors.py``).
Messages follow Meta's ``(#code) Title`` convention; ``error_data.details`` says precisely
what was wrong, as Meta recommends relying on code and details rather than titles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import phonenumbers

from bot.mirror.emoji import is_emoji
from bot.sandbox.errors import GraphError
from bot.sandbox.payloads import BusinessNumber

JSON = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 512
MEDIA_TYPES = ("image", "document", "video", "audio", "sticker")
SEND_TYPES = (
    "text",
    *MEDIA_TYPES,
    "reaction",
    "interactive",
    "template",
    "location",
    "contacts",
)
_CAPTION_TYPES = {"image", "video", "document"}
_INTERACTIVE_TYPES = {
    "button",
    "list",
    "cta_url",
    "flow",
    "product",
    "product_list",
    "catalog_message",
    "location_request_message",
}
_NUMBER = re.compile(r"[\s+\-().]")


# -- error answers -------------------------------------------------------------------------


def invalid_token() -> GraphError:
    """401 / 190 / 463, the shape pywa documents for an expired or wrong token."""
    return GraphError(
        401,
        190,
        "Error validating access token: Session has expired or the access token is invalid.",
        subcode=463,
    )


def unknown_object(object_id: str, method: str = "post") -> GraphError:
    """400 / 100: a phone number or media id this account does not have."""
    return GraphError(
        400,
        100,
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read "
        "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        error_type="GraphMethodException",
        subcode=33,
    )


def missing_param(name: str) -> GraphError:
    return GraphError(
        400, 100, f"(#100) The parameter {name} is required.", details=f"{name} is required"
    )


def invalid_param(details: str) -> GraphError:
    return GraphError(400, 100, "(#100) Invalid parameter", details=details)


def invalid_value(details: str) -> GraphError:
    return GraphError(400, 131009, "(#131009) Parameter value is not valid", details=details)


def download_error(details: str) -> GraphError:
    """131052: Meta could not fetch what the user sent (fact sheet §8: retry may help)."""
    return GraphError(400, 131052, "(#131052) Media download error", details=details)


def upload_error(details: str) -> GraphError:
    return GraphError(400, 131053, "(#131053) Media upload error", details=details)


def _retry_headers(retry_after: float | None) -> dict[str, str]:
    if retry_after is None:
        return {}
    return {"Retry-After": str(max(1, int(-(-retry_after // 1))))}


def throughput_exceeded(retry_after: float | None) -> GraphError:
    """429 / 130429; ``retry_after`` (seconds) becomes an integer ``Retry-After`` header."""
    return GraphError(
        429,
        130429,
        "(#130429) Rate limit hit",
        details="Cloud API message throughput has been reached.",
        subcode=2494055,
        headers=_retry_headers(retry_after),
    )


def pair_limit_exceeded(retry_after: float | None) -> GraphError:
    """429 / 131056: too many messages to one recipient; other recipients are fine."""
    return GraphError(
        429,
        131056,
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        details="Message failed to send because there were too many messages sent from this "
        "phone number to the same phone number in a short period of time.",
        headers=_retry_headers(retry_after),
    )


def something_went_wrong() -> GraphError:
    """500 / 131000: Meta's answer when it fails for an unknown reason; retrying may help."""
    return GraphError(
        500,
        131000,
        "(#131000) Something went wrong",
        details="Message failed to send due to an unknown error.",
    )


def service_unavailable() -> GraphError:
    """503 / 131016: the service is temporarily overloaded or down; retrying helps."""
    return GraphError(
        503,
        131016,
        "(#131016) Service unavailable",
        details="A service is temporarily unavailable.",
    )


# -- account answers -----------------------------------------------------------------------


@dataclass(frozen=True)
class SubscribedApp:
    """An app subscribed to the WABA's webhooks, as ``whatsapp_business_api_data`` shows it."""

    app_id: str
    name: str

    def view(self) -> JSON:
        link = f"https://www.facebook.com/games/?app_id={self.app_id}"
        return {"whatsapp_business_api_data": {"id": self.app_id, "link": link, "name": self.name}}


def phone_number_object(business: BusinessNumber, verified_name: str) -> JSON:
    """``GET /{phone_number_id}``: Meta's default fields for a Cloud API number.

    Unlike webhook metadata (digits only), this answer shows the number formatted with ``+``.
    """
    parsed = phonenumbers.parse("+" + business.display_phone_number)
    display = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return {
        "verified_name": verified_name,
        "code_verification_status": "VERIFIED",
        "display_phone_number": display,
        "quality_rating": "GREEN",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
        "id": business.phone_number_id,
    }


def subscribed_apps_body(apps: list[SubscribedApp]) -> JSON:
    """``GET /{waba_id}/subscribed_apps``: one entry per app, ``{"data": []}`` for none."""
    return {"data": [app.view() for app in apps]}


# -- request validation --------------------------------------------------------------------


def wa_id_of(number: str) -> str | None:
    """Digits of a phone number written with or without ``+``, spaces, dashes, brackets.

    Returns None unless the result is a plausible E.164 number (6–15 digits, no leading 0).
    """
    digits = _NUMBER.sub("", number)
    if not digits.isdigit() or not 6 <= len(digits) <= 15 or digits.startswith("0"):
        return None
    return digits


@dataclass(frozen=True)
class SendRequest:
    """A validated message send. ``content`` is the object named after ``type``."""

    to: str
    wa_id: str
    type: str
    content: JSON
    context_message_id: str | None
    biz_opaque_callback_data: str | None
    body: JSON

    @property
    def is_template(self) -> bool:
        """Templates are the only messages allowed outside the customer service window."""
        return self.type == "template"

    @property
    def media_id(self) -> str | None:
        value = self.content.get("id") if self.type in MEDIA_TYPES else None
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ReadRequest:
    """Mark-as-read, optionally with a typing indicator (same endpoint, §6)."""

    message_id: str
    typing: bool


def _object(body: JSON, key: str) -> JSON:
    value = body.get(key)
    if value is None:
        raise missing_param(key)
    if not isinstance(value, dict):
        raise invalid_param(f"Param {key} must be a JSON object")
    return value


def _content_object(body: JSON, kind: str) -> JSON:
    """The object named after ``type``; ``contacts`` is the one list, wrapped for uniformity."""
    if kind != "contacts":
        return _object(body, kind)
    cards = body.get("contacts")
    if cards is None:
        raise missing_param("contacts")
    if not isinstance(cards, list) or not cards or not all(isinstance(c, dict) for c in cards):
        raise invalid_param("Param contacts must be a non-empty list of contact objects")
    return {"contacts": cards}


def _string(obj: JSON, key: str, where: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise missing_param(f"{where}['{key}']")
        return None
    if not isinstance(value, str):
        raise invalid_param(f"Param {where}['{key}'] must be a string")
    return value


def _max_len(value: str | None, limit: int, where: str) -> None:
    if value is not None and len(value) > limit:
        raise invalid_value(f"Param {where} must be at most {limit} characters long.")


def parse_messages_body(body: Any) -> SendRequest | ReadRequest:
    """Validate a ``/messages`` body like Meta; raise :class:`GraphError` on the first fault."""
    if not isinstance(body, dict):
        raise invalid_param("The request body must be a JSON object")
    product = body.get("messaging_product")
    if product is None:
        raise missing_param("messaging_product")
    if product != "whatsapp":
        raise invalid_param(
            f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".'
        )
    if "status" in body:
        return _parse_read(body)
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise invalid_param("The sandbox supports recipient_type individual only")
    to = body.get("to")
    if to is None:
        raise missing_param("to")
    wa_id = wa_id_of(to) if isinstance(to, str) else None
    if wa_id is None:
        raise invalid_param("Param to must be a phone number or wa_id")
    # Meta defaults ``type`` to text when it is left out.
    kind = body.get("type", "text")
    if kind not in SEND_TYPES:
        raise invalid_param(f"Param type must be one of {{{', '.join(SEND_TYPES)}}}")
    content = _content_object(body, kind)
    _validate_content(kind, content)
    context = body.get("context")
    context_id = None
    if context is not None:
        if not isinstance(context, dict):
            raise invalid_param("Param context must be a JSON object")
        context_id = _string(context, "message_id", "context")
    callback = body.get("biz_opaque_callback_data")
    if callback is not None and not isinstance(callback, str):
        raise invalid_param("Param biz_opaque_callback_data must be a string")
    _max_len(callback, MAX_CALLBACK_DATA, "biz_opaque_callback_data")
    return SendRequest(
        to=to,
        wa_id=wa_id,
        type=kind,
        content=content,
        context_message_id=context_id,
        biz_opaque_callback_data=callback,
        body=body,
    )


def _parse_read(body: JSON) -> ReadRequest:
    if body.get("status") != "read":
        raise invalid_param('Param status must be "read"')
    message_id = _string(body, "message_id", "body")
    assert message_id is not None
    indicator = body.get("typing_indicator")
    if indicator is not None and (
        not isinstance(indicator, dict) or indicator.get("type") != "text"
    ):
        raise invalid_param("Param typing_indicator['type'] must be \"text\"")
    return ReadRequest(message_id=message_id, typing=indicator is not None)


def _validate_content(kind: str, content: JSON) -> None:
    if kind == "text":
        text = _string(content, "body", "text")
        if not text:
            raise invalid_value("Param text['body'] must not be empty.")
        _max_len(text, MAX_TEXT, "text['body']")
        preview = content.get("preview_url")
        if preview is not None and not isinstance(preview, bool):
            raise invalid_param("Param text['preview_url'] must be a boolean")
    elif kind in MEDIA_TYPES:
        _validate_media(kind, content)
    elif kind == "reaction":
        _string(content, "message_id", "reaction")
        emoji = _string(content, "emoji", "reaction", required=False)
        if emoji is None:
            raise missing_param("reaction['emoji']")
        if emoji and not is_emoji(emoji):  # "" removes; the code for other text UNVERIFIED
            raise invalid_value("Param reaction['emoji'] must be an emoji or empty.")
    elif kind == "interactive":
        _validate_interactive(content)
    elif kind == "location":
        for key in ("latitude", "longitude"):
            value = content.get(key)
            if value is None:
                raise missing_param(f"location['{key}']")
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise invalid_param(f"Param location['{key}'] must be a number")
    elif kind == "template":
        _string(content, "name", "template")
        language = content.get("language")
        if not isinstance(language, dict):
            raise missing_param("template['language']")
        _string(language, "code", "template['language']")
        components = content.get("components", [])
        if not isinstance(components, list):
            raise invalid_param("Param template['components'] must be a list")


def _validate_media(kind: str, content: JSON) -> None:
    has_id, has_link = "id" in content, "link" in content
    if has_id == has_link:
        raise invalid_param(f"Param {kind} must have exactly one of 'id' and 'link'")
    _string(content, "id" if has_id else "link", kind)
    if "caption" in content and kind not in _CAPTION_TYPES:
        raise invalid_param(f"Param {kind}['caption'] is not allowed for {kind} messages")
    _max_len(_string(content, "caption", kind, required=False), MAX_CAPTION, f"{kind}['caption']")
    if "filename" in content and kind != "document":
        raise invalid_param(f"Param {kind}['filename'] is allowed for documents only")


def _validate_interactive(content: JSON) -> None:
    kind = content.get("type")
    if kind not in _INTERACTIVE_TYPES:
        raise invalid_param(
            f"Param interactive['type'] must be one of {{{', '.join(sorted(_INTERACTIVE_TYPES))}}}"
        )
    body = content.get("body")
    if kind in {"button", "list"} and not isinstance(body, dict):
        raise missing_param("interactive['body']")
    if isinstance(body, dict):
        _max_len(_string(body, "text", "interactive['body']"), 1024, "interactive['body']['text']")
    for part in ("header", "footer"):
        section = content.get(part)
        if isinstance(section, dict):
            _max_len(section.get("text"), 60, f"interactive['{part}']['text']")
    action = _object(content, "action") if kind in {"button", "list"} else None
    if kind == "button" and action is not None:
        _validate_buttons(action)
    elif kind == "list" and action is not None:
        _validate_list(action)


def _validate_buttons(action: JSON) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise missing_param("interactive['action']['buttons']")
    if len(buttons) > 3:
        raise invalid_value("Param interactive['action']['buttons'] must have at most 3 items.")
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) else None
        if not isinstance(reply, dict):
            raise missing_param("interactive['action']['buttons'][]['reply']")
        title = _string(reply, "title", "button['reply']")
        reply_id = _string(reply, "id", "button['reply']")
        _max_len(title, 20, "button['reply']['title']")
        _max_len(reply_id, 256, "button['reply']['id']")


def _validate_list(action: JSON) -> None:
    _max_len(_string(action, "button", "interactive['action']"), 20, "action['button']")
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise missing_param("interactive['action']['sections']")
    if len(sections) > 10:
        raise invalid_value("Param interactive['action']['sections'] must have at most 10 items.")
    rows = [
        row
        for section in sections
        if isinstance(section, dict)
        for row in section.get("rows", [])
        if isinstance(row, dict)
    ]
    if not rows:
        raise missing_param("interactive['action']['sections'][]['rows']")
    if len(rows) > 10:
        raise invalid_value("A list message can have at most 10 rows in total.")
    for row in rows:
        _max_len(_string(row, "title", "row"), 24, "row['title']")
        _string(row, "id", "row")
        _max_len(_string(row, "description", "row", required=False), 72, "row['description']")
