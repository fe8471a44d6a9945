"""Driver requests ("the customer's phone") → inbound message payloads.

A driver request is small and forgiving (``{"from": "+49 151 …", "type": "text", "text":
"Hallo"}``); the webhook it becomes is strict Cloud API wire format, built only with
:mod:`bot.sandbox.payloads`. Three escape hatches cover what the builders do not know:
``extra`` merges unknown fields into a built message, ``message`` posts a raw message object
(``from``/``id``/``timestamp`` filled in if absent), and ``contact`` replaces the
``contacts[]`` entry (e.g. a username user without ``wa_id``).
"""

from __future__ import annotations

import base64
import binascii
import copy
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox import payloads as p
from bot.sandbox.errors import DriverRequestError, GraphError
from bot.sandbox.graph import wa_id_of
from bot.sandbox.media import MediaItem, MediaStore, check_upload, is_static_webp
from bot.sandbox.payloads import JSON, BusinessNumber

DEFAULT_MIME = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg; codecs=opus",
    "document": "application/pdf",
    "sticker": "image/webp",
}
# Tiny but valid files, so a demo without real media still shows something in the chat.
_PLACEHOLDERS: dict[str, tuple[str, bytes]] = {
    "image": (
        "image/png",
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNQvZwGAAJ/AV9X3CpyAAAAAElFTkSuQmCC"
        ),
    ),
    "sticker": (
        "image/webp",
        base64.b64decode(
            "UklGRjQAAABXRUJQVlA4ICgAAACQAQCdASoBAAEAAsBMJaACdLoAA5gA/tju9d4tMUP/Owf2b+9HTMAA"
        ),
    ),
    "document": ("text/plain", b"Sandbox document: no file content was given.\n"),
}


@dataclass(frozen=True)
class CustomerMessage:
    """What a driver request turned into: sender, optional profile name, the message."""

    wa_id: str
    name: str | None
    message: JSON
    contact: JSON | None


@dataclass(frozen=True)
class BuildContext:
    """What building a message needs from the running sandbox."""

    business: BusinessNumber
    media: MediaStore
    media_origin: str
    wamid: str
    timestamp: str
    last_outbound: Callable[[str], str | None]
    """The latest wamid the business sent to a wa_id: default target of replies and reactions."""


def number_or_error(value: Any, field: str) -> str:
    wa_id = wa_id_of(value) if isinstance(value, str) else None
    if wa_id is None:
        raise DriverRequestError(f"{field}: expected a phone number like +4915112345678")
    return wa_id


def _str(spec: JSON, key: str, *, default: str | None = None) -> str:
    value = spec.get(key, default)
    if not isinstance(value, str):
        raise DriverRequestError(f"{key}: required, a string")
    return value


def _opt_str(spec: JSON, key: str) -> str | None:
    value = spec.get(key)
    if value is not None and not isinstance(value, str):
        raise DriverRequestError(f"{key}: must be a string")
    return value


def _opt_dict(spec: JSON, key: str) -> JSON | None:
    value = spec.get(key)
    if value is not None and not isinstance(value, dict):
        raise DriverRequestError(f"{key}: must be a JSON object")
    return value


def _number(spec: JSON, key: str) -> float:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DriverRequestError(f"{key}: required, a number")
    return float(value)


def _target(spec: JSON, key: str, ctx: BuildContext, wa_id: str) -> str:
    value = _opt_str(spec, key) or ctx.last_outbound(wa_id)
    if value is None:
        raise DriverRequestError(f"{key}: required (the business has sent nothing to refer to)")
    return value


# -- content builders per driver type -------------------------------------------------------


def _stored_media(kind: str, spec: JSON, ctx: BuildContext) -> MediaItem:
    """The media a customer sends, stored so the bot can fetch it like real customer media."""
    media_id = _opt_str(spec, "media_id")
    if media_id is not None:
        found = ctx.media.get(media_id)
        if found is None:
            raise DriverRequestError(f"media_id: no media {media_id} in the sandbox")
        return found
    mime = _opt_str(spec, "mime_type")
    encoded = _opt_str(spec, "data_base64")
    if encoded is not None:
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DriverRequestError("data_base64: not valid base64") from exc
        mime = mime or DEFAULT_MIME[kind]
    elif mime is None and kind in _PLACEHOLDERS:
        mime, content = _PLACEHOLDERS[kind]
    else:
        mime = mime or DEFAULT_MIME[kind]
        content = f"Sandbox {kind}: no file content was given.\n".encode()
    try:
        check_upload(mime, len(content), static_sticker=is_static_webp(content))
    except GraphError as exc:  # reword Meta's answer for the driver
        raise DriverRequestError(f"mime_type/data_base64: {exc}") from exc
    filename = _opt_str(spec, "filename")
    if filename is None and kind == "document":
        filename = "document" + (mimetypes.guess_extension(mime.split(";")[0]) or "")
    failing = spec.get("download_fails", False)
    if not isinstance(failing, bool):
        raise DriverRequestError("download_fails: must be true or false")
    return ctx.media.add(content, mime, filename=filename, inbound=True, failing=failing)


def _media(kind: str, spec: JSON, ctx: BuildContext) -> JSON:
    item = _stored_media(kind, spec, ctx)
    sha = p.sha256_base64(item.content)
    url = ctx.media.url_for(item, ctx.media_origin) if spec.get("include_url") else None
    caption = _opt_str(spec, "caption")
    if kind == "image":
        return p.image(
            item.media_id, mime_type=item.mime_type, sha256=sha, caption=caption, url=url
        )
    if kind == "video":
        return p.video(
            item.media_id, mime_type=item.mime_type, sha256=sha, caption=caption, url=url
        )
    if kind == "document":
        return p.document(
            item.media_id,
            mime_type=item.mime_type,
            sha256=sha,
            filename=item.filename,
            caption=caption,
            url=url,
        )
    if kind == "audio":
        voice = spec.get("voice", True)
        if not isinstance(voice, bool):
            raise DriverRequestError("voice: must be true or false")
        return p.audio(item.media_id, mime_type=item.mime_type, sha256=sha, voice=voice, url=url)
    animated = spec.get("animated", False)
    if not isinstance(animated, bool):
        raise DriverRequestError("animated: must be true or false")
    return p.sticker(item.media_id, mime_type=item.mime_type, sha256=sha, animated=animated)


def _contacts(spec: JSON) -> JSON:
    cards = spec.get("contacts")
    if not isinstance(cards, list) or not cards:
        raise DriverRequestError("contacts: required, a non-empty list")
    built: list[JSON] = []
    for card in cards:
        if not isinstance(card, dict):
            raise DriverRequestError("contacts[]: each entry must be a JSON object")
        if isinstance(card.get("name"), dict):  # already a vCard-like object: keep as is
            built.append(card)
            continue
        phone = _str(card, "phone")
        built.append(
            p.contact_card(
                _str(card, "name"),
                phone,
                wa_id=wa_id_of(phone) if card.get("whatsapp", True) else None,
            )
        )
    return p.contacts(built)


def _order(spec: JSON) -> JSON:
    items = spec.get("product_items")
    if not isinstance(items, list) or not items:
        raise DriverRequestError("product_items: required, a non-empty list")
    return p.order(_str(spec, "catalog_id"), items, _str(spec, "text", default=""))


def _nfm(spec: JSON) -> JSON:
    response = spec.get("response_json", {})
    if not isinstance(response, str | dict):
        raise DriverRequestError("response_json: must be a JSON object or a string")
    return p.nfm_reply(
        response,
        name=_str(spec, "flow_name", default="flow"),
        body=_str(spec, "body", default="Sent"),
    )


def _location(spec: JSON) -> JSON:
    """``"location": {latitude, longitude[, name, address, url]}`` as on the wire."""
    place = _opt_dict(spec, "location")
    if place is None:
        raise DriverRequestError("location: required, {latitude, longitude[, name, address]}")
    return p.location(
        _number(place, "latitude"),
        _number(place, "longitude"),
        name=_opt_str(place, "name"),
        address=_opt_str(place, "address"),
        url=_opt_str(place, "url"),
    )


def _edit(spec: JSON) -> JSON:
    inner = _opt_dict(spec, "edited")
    new_content = inner if inner is not None else p.text(_str(spec, "text"))
    return p.edit(_str(spec, "original_message_id"), new_content)


def _content(kind: str, spec: JSON, ctx: BuildContext, wa_id: str) -> JSON:
    """The type-specific part of the message for a driver ``type``."""
    if kind in DEFAULT_MIME:
        return _media(kind, spec, ctx)
    simple: dict[str, Callable[[], JSON]] = {
        "text": lambda: p.text(_str(spec, "text")),
        "location": lambda: _location(spec),
        "contacts": lambda: _contacts(spec),
        "button_reply": lambda: p.button_reply(_str(spec, "id"), _str(spec, "title")),
        "list_reply": lambda: p.list_reply(
            _str(spec, "id"), _str(spec, "title"), _opt_str(spec, "description")
        ),
        "nfm_reply": lambda: _nfm(spec),
        "button": lambda: p.button(_str(spec, "payload"), _str(spec, "text")),
        "reaction": lambda: p.reaction(
            _target(spec, "message_id", ctx, wa_id), _opt_str(spec, "emoji")
        ),
        "order": lambda: _order(spec),
        "user_changed_number": lambda: p.user_changed_number(
            wa_id, number_or_error(spec.get("new_number"), "new_number")
        ),
        "customer_identity_changed": lambda: p.customer_identity_changed(
            _str(spec, "identity_hash", default="sandbox-identity-hash"), ctx.timestamp
        ),
        "unsupported": lambda: p.unsupported(_opt_str(spec, "unsupported_type")),
        "edit": lambda: _edit(spec),
        "revoke": lambda: p.revoke(_str(spec, "original_message_id")),
        "request_welcome": p.request_welcome,
    }
    builder = simple.get(kind)
    if builder is None:
        known = ", ".join(sorted([*DEFAULT_MIME, *simple]))
        raise DriverRequestError(f"type: unknown type {kind!r}; one of {known}, or send 'message'")
    return builder()


DRIVER_TYPES_WITH_CONTEXT = {"button_reply", "list_reply", "nfm_reply", "button"}
"""Meta always puts the tapped message in ``context`` for these."""


def _context(spec: JSON, kind: str | None, ctx: BuildContext, wa_id: str) -> JSON | None:
    raw = _opt_dict(spec, "context")
    if raw is not None:
        return raw
    reply_to = _opt_str(spec, "reply_to")
    if reply_to is None and kind in DRIVER_TYPES_WITH_CONTEXT:
        reply_to = ctx.last_outbound(wa_id)
    if reply_to is not None:
        return p.reply_context(ctx.business, reply_to)
    if spec.get("frequently_forwarded"):
        return p.forwarded_context(frequently=True)
    if spec.get("forwarded"):
        return p.forwarded_context()
    return None


def build_customer_message(spec: Any, ctx: BuildContext) -> CustomerMessage:
    """Turn one driver request into the message the webhook will carry."""
    if not isinstance(spec, dict):
        raise DriverRequestError("expected a JSON object")
    wa_id = number_or_error(spec.get("from"), "from")
    name = _opt_str(spec, "name")
    contact = _opt_dict(spec, "contact")
    raw = _opt_dict(spec, "message")
    if raw is not None:
        message = {"from": wa_id, "id": ctx.wamid, "timestamp": ctx.timestamp, **raw}
        return CustomerMessage(wa_id, name, message, contact)
    kind = spec.get("type", "text")
    if not isinstance(kind, str):
        raise DriverRequestError("type: must be a string")
    content = _content(kind, spec, ctx, wa_id)
    referral = _opt_dict(spec, "referral")
    message = p.inbound_message(
        content,
        sender=wa_id,
        wamid=ctx.wamid,
        timestamp=ctx.timestamp,
        context=_context(spec, kind, ctx, wa_id),
        referral=referral,
    )
    extra = _opt_dict(spec, "extra")
    if extra is not None:
        message.update(copy.deepcopy(extra))
    return CustomerMessage(wa_id, name, message, contact)
