"""Cloud API webhook bodies → domain objects.

Only the fields Empfang needs are taken (the intake allow-list); everything else in a
payload is dropped here. Unknown ``field`` values and message types are kept as facts
("unsupported") rather than dropped, so an admin can see that something arrived.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.domain import (
    Choice,
    DeliveryStatus,
    InboundMessage,
    Location,
    Media,
    MessageKind,
    Reaction,
    Sender,
    SharedContact,
    SharedPhone,
    StatusUpdate,
    UnsupportedEvent,
    WebhookBatch,
)
from bot.errors import PayloadError

JSON = dict[str, Any]

_MEDIA_KINDS = {
    MessageKind.IMAGE,
    MessageKind.AUDIO,
    MessageKind.VIDEO,
    MessageKind.DOCUMENT,
    MessageKind.STICKER,
}
_STATUS = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "played": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


def parse_webhook(body: bytes) -> WebhookBatch:
    """Parse a whole POST body; PayloadError says in a few words what is wrong."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("body is not valid JSON") from exc
    if not isinstance(doc, dict) or doc.get("object") != "whatsapp_business_account":
        raise PayloadError('expected {"object": "whatsapp_business_account", "entry": [...]}')
    entries = doc.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("entry must be a list")
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    unsupported: list[UnsupportedEvent] = []
    for entry in entries:
        changes = _dict(entry, "entry[]").get("changes", [])
        if not isinstance(changes, list):
            raise PayloadError("entry[].changes must be a list")
        for change in changes:
            change = _dict(change, "changes[]")
            field = change.get("field")
            value = change.get("value")
            if field != "messages":
                unsupported.append(_unsupported(str(field), change))
                continue
            value = _dict(value, "changes[].value")
            names = _profile_names(value.get("contacts", []))
            for raw in _list(value, "messages"):
                messages.append(_message(_dict(raw, "messages[]"), names))
            for raw in _list(value, "statuses"):
                status = _status(_dict(raw, "statuses[]"))
                if status is None:
                    unsupported.append(_unsupported("statuses", raw))
                else:
                    statuses.append(status)
    return WebhookBatch(
        messages=tuple(messages), statuses=tuple(statuses), unsupported=tuple(unsupported)
    )


def _dict(value: Any, where: str) -> JSON:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object")
    return value


def _list(value: JSON, key: str) -> list[Any]:
    found = value.get(key, [])
    if not isinstance(found, list):
        raise PayloadError(f"value.{key} must be a list")
    return found


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ident(value: Any, where: str) -> str | None:
    """An identifier the store keys by. A NUL character in one is malformed input, and
    SQLite's JSON functions (the intake's bulk path) would cut the key there."""
    found = _str(value)
    if found is not None and "\x00" in found:
        raise PayloadError(f"{where} contains a NUL character")
    return found


def _unsupported(field: str, raw: Any) -> UnsupportedEvent:
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()
    return UnsupportedEvent(field=field, digest=hashlib.sha256(canonical).hexdigest())


def _profile_names(contacts: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    if not isinstance(contacts, list):
        return names
    for contact in contacts:
        if not isinstance(contact, dict):
            continue
        profile = contact.get("profile")
        name = _str(profile.get("name")) if isinstance(profile, dict) else None
        if name:  # shown to agents; a NUL in it is noise, and would cut it in the store
            name = name.replace("\x00", "") or None
        for key in ("wa_id", "user_id"):
            ident = _str(contact.get(key))
            if ident and name:
                names[ident] = name
    return names


def _timestamp(raw: JSON) -> int:
    try:
        return int(raw["timestamp"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError("timestamp missing or not Unix seconds") from exc


def _message(raw: JSON, names: dict[str, str]) -> InboundMessage:
    provider_id = _ident(raw.get("id"), "messages[].id")
    if provider_id is None:
        raise PayloadError("messages[].id missing")
    wa_id = _ident(raw.get("from"), "messages[].from")
    user_id = _ident(raw.get("from_user_id"), "messages[].from_user_id")
    if wa_id is None and user_id is None:
        raise PayloadError("messages[] has neither from nor from_user_id")
    sender = Sender(
        wa_id=wa_id,
        user_id=user_id,
        profile_name=names.get(wa_id or "") or names.get(user_id or ""),
    )
    type_name = str(raw.get("type", ""))
    try:
        kind = MessageKind(type_name)
    except ValueError:
        kind = MessageKind.UNSUPPORTED
    fields: dict[str, Any] = {
        "provider_id": provider_id,
        "sender": sender,
        "timestamp": _timestamp(raw),
        "kind": kind,
    }
    fields.update(_context(raw.get("context")))
    errors = raw.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        fields["error_code"] = code if isinstance(code, int) else None
    content = raw.get(type_name)
    if kind is MessageKind.UNSUPPORTED:
        inner = content.get("type") if isinstance(content, dict) else None
        fields["unsupported_type"] = _str(inner) or (
            type_name if type_name != "unsupported" else None
        )
        return InboundMessage(**fields)
    fields.update(_content(kind, content, raw))
    return InboundMessage(**fields)


def _context(context: Any) -> dict[str, Any]:
    if not isinstance(context, dict):
        return {}
    found: dict[str, Any] = {}
    if _str(context.get("id")):
        found["context_id"] = context["id"]
    if context.get("forwarded") or context.get("frequently_forwarded"):
        found["forwarded"] = True
    return found


def _content(kind: MessageKind, content: Any, raw: JSON) -> dict[str, Any]:
    """The type-specific object; a missing or malformed one is a 400, not a crash."""
    if kind is MessageKind.REQUEST_WELCOME:
        return {}
    if kind is MessageKind.CONTACTS:
        if not isinstance(content, list):
            raise PayloadError("messages[].contacts must be a list")
        return {"contacts": tuple(_shared_contact(c) for c in content if isinstance(c, dict))}
    body = _dict(content, f"messages[].{kind.value}")
    if kind is MessageKind.TEXT:
        return {"text": str(body.get("body", ""))}
    if kind in _MEDIA_KINDS:
        return {"media": _media(body)}
    if kind is MessageKind.LOCATION:
        return {"location": _location(body)}
    if kind is MessageKind.INTERACTIVE:
        return _interactive(body)
    if kind is MessageKind.BUTTON:
        payload = str(body.get("payload", ""))
        return {"choice": Choice(id=payload, title=str(body.get("text", payload)))}
    if kind is MessageKind.REACTION:
        target = _str(body.get("message_id"))
        if target is None:
            raise PayloadError("reaction.message_id missing")
        return {"reaction": Reaction(message_id=target, emoji=str(body.get("emoji") or ""))}
    if kind is MessageKind.ORDER:
        return {"text": _order_summary(body)}
    if kind is MessageKind.SYSTEM:
        return {"text": _str(body.get("body")), "unsupported_type": _str(body.get("type"))}
    if kind is MessageKind.EDIT:
        return _edit(body)
    # REVOKE
    return {"target_id": _str(body.get("original_message_id"))}


def _media(body: JSON) -> Media:
    media_id = _str(body.get("id"))
    if media_id is None:
        raise PayloadError("media object without id")
    return Media(
        media_id=media_id,
        mime_type=_str(body.get("mime_type")),
        sha256=_str(body.get("sha256")),
        filename=_str(body.get("filename")),
        caption=_str(body.get("caption")),
        voice=bool(body.get("voice", False)),
        animated=bool(body.get("animated", False)),
    )


def _location(body: JSON) -> Location:
    try:
        latitude = float(body["latitude"])
        longitude = float(body["longitude"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PayloadError("location without numeric latitude/longitude") from exc
    return Location(
        latitude=latitude,
        longitude=longitude,
        name=_str(body.get("name")),
        address=_str(body.get("address")),
    )


def _shared_contact(card: JSON) -> SharedContact:
    """Name and phone numbers only: e-mail, address, birthday of third parties are dropped."""
    name = card.get("name")
    formatted = ""
    if isinstance(name, dict):
        formatted = str(name.get("formatted_name") or "").strip() or " ".join(
            str(name.get(part, "")) for part in ("first_name", "last_name") if name.get(part)
        )
    phones = card.get("phones")
    return SharedContact(
        name=formatted,
        phones=tuple(
            SharedPhone(
                number=str(p.get("phone") or p.get("wa_id") or ""), kind=_str(p.get("type"))
            )
            for p in (phones if isinstance(phones, list) else [])
            if isinstance(p, dict)
        ),
    )


def _interactive(body: JSON) -> dict[str, Any]:
    sub = str(body.get("type", ""))
    reply = body.get(sub)
    if not isinstance(reply, dict):
        raise PayloadError(f"interactive.{sub or 'type'} missing")
    if sub == "nfm_reply":
        name = str(reply.get("name") or "flow")
        return {"choice": Choice(id=name, title=str(reply.get("body") or name))}
    return {
        "choice": Choice(
            id=str(reply.get("id", "")),
            title=str(reply.get("title", "")),
            description=_str(reply.get("description")),
        )
    }


def _order_summary(body: JSON) -> str:
    items = body.get("product_items")
    lines = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            lines.append(f"{item.get('quantity', 1)} × {item.get('product_retailer_id', '?')}")
    text = str(body.get("text") or "").strip()
    return "; ".join(([text] if text else []) + lines)


def _edit(body: JSON) -> dict[str, Any]:
    inner = body.get("message")
    text = None
    if isinstance(inner, dict):
        inner_type = inner.get("type")
        obj = inner.get(inner_type) if isinstance(inner_type, str) else None
        if isinstance(obj, dict):
            text = _str(obj.get("body")) or _str(obj.get("caption"))
    return {"target_id": _str(body.get("original_message_id")), "text": text}


def _status(raw: JSON) -> StatusUpdate | None:
    provider_id = _str(raw.get("id"))
    status = _STATUS.get(str(raw.get("status", "")))
    if provider_id is None or status is None:
        return None
    code = title = None
    errors = raw.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code") if isinstance(first.get("code"), int) else None
        title = _str(first.get("title"))
    return StatusUpdate(
        provider_message_id=provider_id,
        status=status,
        timestamp=_timestamp(raw),
        error_code=code,
        error_title=title,
    )
