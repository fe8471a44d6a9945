"""Twilio webhook forms → domain objects.

One POST is one inbound message or one status callback. Twilio sends no event time, so the
arrival time is the message's time. Addresses carry a ``whatsapp:`` prefix; the customer's
number is taken from ``From`` (``WaId`` holds the same digits). Only the fields Empfang
needs are read (the intake allow-list); an inbound message that cannot be used (no sid, a
sender that is no WhatsApp number) is kept as an unsupported event, as on the Cloud path.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from adapters.twilio.signature import Params
from bot.domain import (
    Choice,
    DeliveryStatus,
    ForeignChange,
    InboundMessage,
    Location,
    Media,
    MessageKind,
    Referral,
    Sender,
    StatusUpdate,
    UnsupportedEvent,
    WebhookBatch,
)
from bot.errors import PayloadError
from bot.ids import ProviderMessageId, WaId
from bot.logfilter import mask_log_text

ADDRESS = re.compile(r"whatsapp:\+([1-9][0-9]{6,14})")
_SID = re.compile(r"[A-Za-z0-9]{2,64}")
_MEDIA_URL = re.compile(r"https?://[\x21-\x7e]{1,240}")

STATUS = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
"""Twilio's ``MessageStatus`` → the delivery states the thread shows (the Cloud path's)."""
EARLY = frozenset({"accepted", "scheduled", "queued", "sending"})
"""States before the message left Twilio: no news for the thread, nothing is stored."""
INBOUND = frozenset({"", "received", "receiving"})


def parse_form(params: Params, *, numbers: Collection[str], now: float) -> WebhookBatch:
    """The delivery as a batch; ``numbers`` are our senders (``whatsapp:+…``): a message
    to, or a status of a message from, any other address is only counted as foreign."""
    form = {name: value for name, value in params}  # Twilio sends each name once
    status = form.get("MessageStatus", form.get("SmsStatus", ""))
    if status in INBOUND:
        ours = form.get("To", "")
        if ours not in numbers:
            return WebhookBatch(foreign=(_foreign(ours, messages=1),))
        try:
            return WebhookBatch(messages=(_message(form, int(now)),))
        except PayloadError as exc:
            return WebhookBatch(unsupported=(_unsupported(f"invalid message: {exc}", form),))
    ours = form.get("From", "")
    if ours not in numbers:
        return WebhookBatch(foreign=(_foreign(ours, statuses=1),))
    if status in EARLY:
        return WebhookBatch()
    try:
        return WebhookBatch(statuses=(_status(form, status, int(now)),))
    except PayloadError as exc:
        return WebhookBatch(unsupported=(_unsupported(f"invalid status: {exc}", form),))


def _foreign(address: str, *, messages: int = 0, statuses: int = 0) -> ForeignChange:
    """Keyed by the sender's digits; the log shows only the last four of them."""
    found = ADDRESS.fullmatch(address)
    return ForeignChange(
        number_id=found.group(1) if found else "", messages=messages, statuses=statuses
    )


def _unsupported(field: str, form: Mapping[str, str]) -> UnsupportedEvent:
    canonical = json.dumps(form, sort_keys=True, separators=(",", ":")).encode()
    return UnsupportedEvent(
        field=mask_log_text(field), digest=hashlib.sha256(canonical).hexdigest()
    )


def _sid(form: Mapping[str, str], name: str = "MessageSid") -> str:
    sid = form.get(name) or form.get("SmsSid", "")
    if not _SID.fullmatch(sid):
        raise PayloadError(f"{name} missing or not a Twilio sid")
    return sid


def _text(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name, "").replace("\x00", "")
    return value or None


def _message(form: Mapping[str, str], now: int) -> InboundMessage:
    sender = ADDRESS.fullmatch(form.get("From", ""))
    if sender is None:
        raise PayloadError("From is not a WhatsApp number")
    fields: dict[str, Any] = {
        "provider_id": ProviderMessageId(_sid(form)),
        "sender": Sender(wa_id=WaId(sender.group(1)), profile_name=_text(form, "ProfileName")),
        "timestamp": now,
        "forwarded": "true" in (form.get("Forwarded"), form.get("FrequentlyForwarded")),
        "context_id": _text(form, "OriginalRepliedMessageSid"),
        "referral": _referral(form),
        "number_id": form.get("To", ""),  # our sender: the conversation's number
    }
    return InboundMessage(**fields, **_content(form))


def _content(form: Mapping[str, str]) -> dict[str, Any]:
    body = _text(form, "Body")
    if _count(form.get("NumMedia", "0")) > 0:
        return _media(form, caption=body)
    if form.get("Latitude") and form.get("Longitude"):
        return {"kind": MessageKind.LOCATION, "location": _location(form)}
    if form.get("ButtonPayload") or form.get("ButtonText"):
        payload = form.get("ButtonPayload") or form.get("ButtonText", "")
        title = form.get("ButtonText") or payload
        return {"kind": MessageKind.BUTTON, "choice": Choice(id=payload, title=title)}
    if form.get("ListId"):
        choice = Choice(id=form["ListId"], title=form.get("ListTitle") or form["ListId"])
        return {"kind": MessageKind.INTERACTIVE, "choice": choice}
    return {"kind": MessageKind.TEXT, "text": body or ""}


_SMALL_NUMBER = re.compile(r"[0-9]{1,9}")
"""``NumMedia``, ``ErrorCode``: ASCII digits only (``str.isdigit`` also takes "²", which
``int`` refuses), few enough for an INTEGER column."""


def _number(value: str) -> int | None:
    return int(value) if _SMALL_NUMBER.fullmatch(value) else None


def _count(value: str) -> int:
    return _number(value) or 0


_KIND_BY_TYPE = {
    "image/webp": MessageKind.STICKER,
}
_KIND_BY_CLASS = {
    "image": MessageKind.IMAGE,
    "audio": MessageKind.AUDIO,
    "video": MessageKind.VIDEO,
}


def _media(form: Mapping[str, str], *, caption: str | None) -> dict[str, Any]:
    """WhatsApp carries one media item per message (``MediaUrl0``). Its URL is its id:
    the download fetches it with the account's Basic auth."""
    url = form.get("MediaUrl0", "")
    if not _MEDIA_URL.fullmatch(url):
        raise PayloadError("MediaUrl0 missing or not a URL")
    mime = form.get("MediaContentType0", "").strip().lower() or None
    bare = (mime or "").split(";")[0]
    kind = _KIND_BY_TYPE.get(bare) or _KIND_BY_CLASS.get(bare.split("/")[0], MessageKind.DOCUMENT)
    media = Media(
        media_id=url,
        mime_type=mime,
        caption=caption,
        voice=kind is MessageKind.AUDIO and bare == "audio/ogg",
        url=url,
    )
    return {"kind": kind, "media": media}


def _location(form: Mapping[str, str]) -> Location:
    try:
        latitude = float(form["Latitude"])
        longitude = float(form["Longitude"])
    except ValueError as exc:
        raise PayloadError("Latitude/Longitude are not numbers") from exc
    if not (abs(latitude) <= 90 and abs(longitude) <= 180):
        raise PayloadError("location outside the globe")
    return Location(
        latitude=latitude,
        longitude=longitude,
        name=_text(form, "Label"),
        address=_text(form, "Address"),
    )


def _referral(form: Mapping[str, str]) -> Referral | None:
    found = Referral(
        headline=_text(form, "ReferralHeadline"),
        source_url=_text(form, "ReferralSourceUrl"),
    )
    return found if found.headline or found.source_url else None


def _status(form: Mapping[str, str], status: str, now: int) -> StatusUpdate:
    state = STATUS.get(status)
    if state is None:
        raise PayloadError("MessageStatus is not one Empfang knows")
    code = form.get("ErrorCode", "")
    return StatusUpdate(
        provider_message_id=ProviderMessageId(_sid(form)),
        status=state,
        timestamp=now,
        error_code=_number(code),
        error_title=_text(form, "ErrorMessage"),
    )
