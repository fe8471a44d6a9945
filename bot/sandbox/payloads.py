"""Webhook payload builders in the Cloud API wire format (fact sheet §2–§5).

These are the shapes the bot's production parser has to handle, so they follow the
documented fixtures field by field: ids are strings, timestamps are Unix seconds as strings,
``from``/``wa_id`` are digits only. Every builder returns a plain JSON-able ``dict``; nothing
here does I/O, which keeps the builders usable from tests that want a payload without a
running sandbox.

Content builders (``text``, ``image``, …) return the type-specific part of a message
(``{"type": "text", "text": {...}}``); :func:`inbound_message` adds ``from``/``id``/
``timestamp``/``context``, and :func:`messages_webhook` wraps messages in the envelope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

ERRORS_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
"""Meta puts this link on errors in status webhooks."""

# Inbound and outbound wamids differ in one marker byte and the length of the random part,
# as the documented examples do (``HBgL…FQIAEhgU…`` inbound, ``HBgL…FQIAERgS…`` outbound).
_INBOUND_MARKER = b"\x12"
_OUTBOUND_MARKER = b"\x11"


@dataclass(frozen=True)
class BusinessNumber:
    """The business side of every payload: WABA id (``entry[].id``) and the number's ids."""

    waba_id: str
    phone_number_id: str
    display_phone_number: str


# -- ids, encoding, signature --------------------------------------------------------------


def new_wamid(wa_id: str, *, outbound: bool = False) -> str:
    """A message id shaped like Meta's: ``wamid.`` + base64 of a small binary record.

    Real wamids embed the customer's number and a random hex id; copying that layout keeps
    code honest that treats wamids as opaque but stores or logs them (they contain the
    number, so they must be handled like one).
    """
    number = wa_id.encode("ascii")[:255]
    marker, size = (_OUTBOUND_MARKER, 9) if outbound else (_INBOUND_MARKER, 10)
    random_hex = secrets.token_hex(size).upper().encode("ascii")
    raw = (
        b"\x1c\x18"
        + bytes([len(number)])
        + number
        + b"\x15\x02\x00"
        + marker
        + b"\x18"
        + bytes([len(random_hex)])
        + random_hex
        + b"\x00"
    )
    return "wamid." + base64.b64encode(raw).decode("ascii")


def new_media_id() -> str:
    """Media ids are decimal strings of 15–16 digits."""
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def sha256_base64(content: bytes) -> str:
    """The ``sha256`` form webhook fixtures show (base64); ``GET /{media-id}`` shows hex."""
    return base64.b64encode(hashlib.sha256(content).digest()).decode("ascii")


def encode(payload: JSON) -> bytes:
    """Serialise exactly as the fake promises: escaped unicode, no spaces (fact sheet §5)."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def signature(app_secret: str | bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value: ``sha256=`` + lowercase hex HMAC over the bytes."""
    key = app_secret.encode("utf-8") if isinstance(app_secret, str) else app_secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def signed(payload: JSON, app_secret: str | bytes) -> tuple[bytes, dict[str, str]]:
    """Body bytes and the headers Meta sends with them."""
    body = encode(payload)
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature(app_secret, body),
    }
    return body, headers


# -- envelope ------------------------------------------------------------------------------


def envelope(business: BusinessNumber, value: JSON, *, field: str = "messages") -> JSON:
    """``{"object": "whatsapp_business_account", "entry": [...]}`` with one change."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": business.waba_id, "changes": [{"field": field, "value": value}]}],
    }


def metadata(business: BusinessNumber) -> JSON:
    return {
        "display_phone_number": business.display_phone_number,
        "phone_number_id": business.phone_number_id,
    }


def contact_profile(wa_id: str, name: str) -> JSON:
    """An entry of ``value.contacts[]``: the sender's profile name and wa_id."""
    return {"profile": {"name": name}, "wa_id": wa_id}


def messages_webhook(business: BusinessNumber, contacts: list[JSON], messages: list[JSON]) -> JSON:
    """A complete inbound-message webhook body."""
    value: JSON = {
        "messaging_product": "whatsapp",
        "metadata": metadata(business),
        "contacts": contacts,
        "messages": messages,
    }
    return envelope(business, value)


def statuses_webhook(business: BusinessNumber, statuses: list[JSON]) -> JSON:
    """A complete status webhook body (statuses arrive without ``contacts``)."""
    value: JSON = {
        "messaging_product": "whatsapp",
        "metadata": metadata(business),
        "statuses": statuses,
    }
    return envelope(business, value)


def message_echo(
    business: BusinessNumber, *, to: str, wamid: str, timestamp: str, text: str
) -> JSON:
    """A text the business sent from the WhatsApp Business app on the same number."""
    return {
        "from": business.display_phone_number,
        "to": to,
        "id": wamid,
        "timestamp": timestamp,
        "type": "text",
        "text": {"body": text},
    }


def message_echoes_webhook(business: BusinessNumber, echoes: list[JSON]) -> JSON:
    """``field: smb_message_echoes`` (coexistence), as pywa's ``outgoing_message.json``."""
    value: JSON = {
        "messaging_product": "whatsapp",
        "metadata": metadata(business),
        "message_echoes": echoes,
    }
    return envelope(business, value, field="smb_message_echoes")


# -- inbound messages ----------------------------------------------------------------------


def inbound_message(
    content: JSON,
    *,
    sender: str,
    wamid: str,
    timestamp: str,
    context: JSON | None = None,
    referral: JSON | None = None,
    errors: list[JSON] | None = None,
) -> JSON:
    """One ``value.messages[]`` entry: common fields, optional extras, then the content."""
    message: JSON = {}
    if context is not None:
        message["context"] = context
    message.update({"from": sender, "id": wamid, "timestamp": timestamp})
    message.update(content)
    if referral is not None:
        message["referral"] = referral
    if errors is not None:
        message["errors"] = errors
    return message


def reply_context(business: BusinessNumber, wamid: str) -> JSON:
    """Context of a reply to one of the business's messages (``from`` = display number)."""
    return {"from": business.display_phone_number, "id": wamid}


def forwarded_context(*, frequently: bool = False) -> JSON:
    return {"frequently_forwarded": True} if frequently else {"forwarded": True}


def text(body: str) -> JSON:
    return {"type": "text", "text": {"body": body}}


def _media(
    kind: str, media_id: str, mime_type: str, sha256: str, url: str | None, **extra: Any
) -> JSON:
    obj: JSON = {}
    obj.update({k: v for k, v in extra.items() if v is not None})
    obj.update({"mime_type": mime_type, "sha256": sha256, "id": media_id})
    if url is not None:
        obj["url"] = url
    return {"type": kind, kind: obj}


def image(
    media_id: str,
    *,
    mime_type: str,
    sha256: str,
    caption: str | None = None,
    url: str | None = None,
) -> JSON:
    return _media("image", media_id, mime_type, sha256, url, caption=caption)


def video(
    media_id: str,
    *,
    mime_type: str,
    sha256: str,
    caption: str | None = None,
    url: str | None = None,
) -> JSON:
    return _media("video", media_id, mime_type, sha256, url, caption=caption)


def audio(
    media_id: str, *, mime_type: str, sha256: str, voice: bool, url: str | None = None
) -> JSON:
    """``voice: true`` is a recorded voice note, ``false`` a forwarded audio file."""
    content = _media("audio", media_id, mime_type, sha256, url)
    content["audio"]["voice"] = voice
    return content


def document(
    media_id: str,
    *,
    mime_type: str,
    sha256: str,
    filename: str | None = None,
    caption: str | None = None,
    url: str | None = None,
) -> JSON:
    return _media("document", media_id, mime_type, sha256, url, caption=caption, filename=filename)


def sticker(media_id: str, *, mime_type: str, sha256: str, animated: bool) -> JSON:
    content = _media("sticker", media_id, mime_type, sha256, None)
    content["sticker"]["animated"] = animated
    return content


def location(
    latitude: float,
    longitude: float,
    *,
    name: str | None = None,
    address: str | None = None,
    url: str | None = None,
) -> JSON:
    """A shared current location has only coordinates; a chosen place adds name/address/url."""
    obj: JSON = {"latitude": latitude, "longitude": longitude}
    for key, value in (("name", name), ("address", address), ("url", url)):
        if value is not None:
            obj[key] = value
    return {"type": "location", "location": obj}


def contact_card(
    formatted_name: str,
    phone: str,
    *,
    wa_id: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    phone_type: str = "CELL",
) -> JSON:
    """One vCard-like entry of a ``contacts`` message; ``wa_id`` only if the number has WhatsApp."""
    name: JSON = {"formatted_name": formatted_name}
    if first_name is not None:
        name["first_name"] = first_name
    if last_name is not None:
        name["last_name"] = last_name
    entry_phone: JSON = {"phone": phone, "type": phone_type}
    if wa_id is not None:
        entry_phone["wa_id"] = wa_id
    return {"name": name, "phones": [entry_phone]}


def contacts(cards: list[JSON]) -> JSON:
    return {"type": "contacts", "contacts": cards}


def button_reply(reply_id: str, title: str) -> JSON:
    """A tap on a reply button; send it with :func:`reply_context` (Meta always does)."""
    return {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }


def list_reply(row_id: str, title: str, description: str | None = None) -> JSON:
    row: JSON = {"id": row_id, "title": title}
    if description is not None:
        row["description"] = description
    return {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": row}}


def nfm_reply(response_json: str | JSON, *, name: str = "flow", body: str = "Sent") -> JSON:
    """A completed Flow; ``response_json`` travels as a JSON *string*."""
    encoded = response_json if isinstance(response_json, str) else json.dumps(response_json)
    return {
        "type": "interactive",
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"name": name, "body": body, "response_json": encoded},
        },
    }


def button(payload: str, button_text: str) -> JSON:
    """A template quick-reply tap (``type: button``, not ``interactive``)."""
    return {"type": "button", "button": {"payload": payload, "text": button_text}}


def reaction(message_id: str, emoji: str | None) -> JSON:
    """``emoji=""`` and ``emoji=None`` (key left out) are both documented removals."""
    obj: JSON = {"message_id": message_id}
    if emoji is not None:
        obj["emoji"] = emoji
    return {"type": "reaction", "reaction": obj}


def product_item(retailer_id: str, quantity: int, item_price: float, currency: str) -> JSON:
    return {
        "product_retailer_id": retailer_id,
        "quantity": quantity,
        "item_price": item_price,
        "currency": currency,
    }


def order(catalog_id: str, items: list[JSON], order_text: str = "") -> JSON:
    return {
        "type": "order",
        "order": {"catalog_id": catalog_id, "text": order_text, "product_items": items},
    }


def user_changed_number(old_wa_id: str, new_wa_id: str) -> JSON:
    """Sent from the *old* number; ``system.wa_id`` is the new one."""
    return {
        "type": "system",
        "system": {
            "body": f"User A changed from {old_wa_id} to {new_wa_id}",
            "wa_id": new_wa_id,
            "type": "user_changed_number",
        },
    }


def customer_identity_changed(identity_hash: str, created_timestamp: str) -> JSON:
    return {
        "type": "system",
        "system": {"body": "User identity changed", "type": "customer_identity_changed"},
        "identity": {
            "acknowledged": True,
            "created_timestamp": created_timestamp,
            "hash": identity_hash,
        },
    }


UNSUPPORTED_ERROR: JSON = {
    "code": 131051,
    "title": "Message type unknown",
    "message": "Message type unknown",
    "error_data": {"details": "Message type is currently not supported."},
}


def unsupported(unsupported_type: str | None = None) -> JSON:
    """An unknown type (poll, …); the error travels on the message itself."""
    content: JSON = {"type": "unsupported"}
    if unsupported_type is not None:
        content["unsupported"] = {"type": unsupported_type}
    content["errors"] = [dict(UNSUPPORTED_ERROR)]
    return content


def edit(original_message_id: str, new_content: JSON) -> JSON:
    """``new_content`` is a content dict such as :func:`text` returns."""
    return {
        "type": "edit",
        "edit": {"original_message_id": original_message_id, "message": new_content},
    }


def revoke(original_message_id: str) -> JSON:
    return {"type": "revoke", "revoke": {"original_message_id": original_message_id}}


def request_welcome() -> JSON:
    """The customer opened the chat for the first time; no content object."""
    return {"type": "request_welcome"}


# -- statuses -------------------------------------------------------------------------------


def conversation(conversation_id: str, origin: str, expiration_timestamp: str | None) -> JSON:
    """``expiration_timestamp`` is present only on ``sent`` statuses."""
    obj: JSON = {"id": conversation_id}
    if expiration_timestamp is not None:
        obj["expiration_timestamp"] = expiration_timestamp
    obj["origin"] = {"type": origin}
    return obj


def pricing(category: str, *, billable: bool, pricing_type: str) -> JSON:
    """Per-message pricing (``PMP``, in force since 2025-07-01) with the v24+ ``type``."""
    return {
        "billable": billable,
        "pricing_model": "PMP",
        "category": category,
        "type": pricing_type,
    }


def status_error(code: int, title: str, details: str) -> JSON:
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": ERRORS_HREF,
    }


WINDOW_CLOSED_ERROR = status_error(
    131047,
    "Re-engagement message",
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number.",
)
UNDELIVERABLE_ERROR = status_error(131026, "Message undeliverable", "Message Undeliverable.")
MARKETING_STOPPED_ERROR = status_error(
    131050,
    "Unable to deliver the message",
    "This recipient has chosen to stop receiving marketing messages on WhatsApp from your "
    "business.",
)
REACTION_TARGET_ERROR = status_error(
    131009,
    "Parameter value is not valid",
    "The message reacted to is more than 30 days old, is not in this conversation, was "
    "deleted, or is a reaction itself.",
)
"""Meta's reaction page: such a reaction "will not be delivered" and the failure arrives as
a status webhook with 131009 (the details wording is the sandbox's)."""


def status(
    wamid: str,
    state: str,
    *,
    recipient_id: str,
    timestamp: str,
    conversation_obj: JSON | None = None,
    pricing_obj: JSON | None = None,
    errors: list[JSON] | None = None,
    biz_opaque_callback_data: str | None = None,
) -> JSON:
    """One ``value.statuses[]`` entry (``state`` is sent/delivered/read/failed/played)."""
    entry: JSON = {
        "id": wamid,
        "status": state,
        "timestamp": timestamp,
        "recipient_id": recipient_id,
    }
    if biz_opaque_callback_data is not None:
        entry["biz_opaque_callback_data"] = biz_opaque_callback_data
    if conversation_obj is not None:
        entry["conversation"] = conversation_obj
    if pricing_obj is not None:
        entry["pricing"] = pricing_obj
    if errors is not None:
        entry["errors"] = errors
    return entry
