"""Cloud API webhook bodies → domain objects.

Only the fields Empfang needs are taken (the intake allow-list); everything else in a
payload is dropped here. Unknown ``field`` values and message types are kept as facts
("unsupported") rather than dropped, so an admin can see that something arrived.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from typing import Any, Final

from bot.config.base import require_tls
from bot.domain import (
    BusinessEcho,
    CallPermission,
    Choice,
    DeliveryStatus,
    ForeignChange,
    InboundMessage,
    Location,
    Media,
    MessageKind,
    Reaction,
    Referral,
    Sender,
    SharedContact,
    SharedPhone,
    StatusUpdate,
    UnsupportedEvent,
    WebhookBatch,
)
from bot.errors import PayloadError
from bot.ids import ProviderMessageId, WaId
from bot.logfilter import mask_log_text

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


ECHOES_FIELD = "smb_message_echoes"
"""Messages the business sent from the WhatsApp Business app on the same number
(coexistence); pywa's ``outgoing_message.json`` shows the shape."""

ROUTED_FIELDS = frozenset({"messages", ECHOES_FIELD})
"""Fields whose changes belong to one business number (``value.metadata.phone_number_id``)."""

MAX_UPDATES = 1000
"""Messages, receipts and echoes one POST may carry. Meta aggregates at most 1,000 updates
into one delivery; more is not Meta, and parsing and storing them would hold the event loop."""
MAX_ITEMS = 4 * MAX_UPDATES
"""Everything the walk visits in one POST: entries, changes, contacts, messages, receipts,
echoes, the cards of a shared contact and their phones, an order's items. Each of Meta's
1,000 updates brings at most its own entry, change and contact; a body of more is not
Meta, and every change of an unknown field would be one more row (34,000 changes in 1 MB
held the event loop 0.45 s and stored 34,000 unsupported events)."""

_ID = re.compile(r"[\x21-\x7e]{1,256}")
"""Message ids (``wamid.`` + base64), BSUIDs: printable ASCII, no spaces."""
MEDIA_ID = re.compile(r"[0-9]{1,32}")
"""Media ids are decimal strings (Meta's examples, pywa's fixtures, the sandbox): the id
goes into a Graph URL path with the access token, so ``../`` or ``?`` must never reach it."""
_WA_ID = re.compile(r"[0-9]{1,20}")
_TIMESTAMP = re.compile(r"-?[0-9]{1,20}")
_LABEL_LENGTH = 64
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_ERROR_CODE = 2**31 - 1


class TooManyUpdates(PayloadError):
    """More than :data:`MAX_UPDATES` messages, receipts and echoes, or more than
    :data:`MAX_ITEMS` items in all, in one POST: one reason for both, as both mean the
    same (no delivery of Meta's is that large)."""

    status = 413

    def __init__(
        self,
        reason: str = (
            f"more than {MAX_UPDATES} messages, statuses and echoes or {MAX_ITEMS} items"
            " in one request"
        ),
    ) -> None:
        super().__init__(reason)


class _Budget:
    """What one POST's walk may still visit (:data:`MAX_ITEMS`), spent as it goes, so a
    body of a million small items is refused after a few thousand, before anything is
    built or stored."""

    def __init__(self) -> None:
        self._left = MAX_ITEMS

    def spend(self, found: list[Any]) -> list[Any]:
        """``found`` once there is room for it; TooManyUpdates otherwise."""
        self._left -= len(found)
        if self._left < 0:
            raise TooManyUpdates()
        return found


def parse_webhook(body: bytes, *, numbers: Collection[str] | None = None) -> WebhookBatch:
    """Parse a whole POST body; PayloadError says in a few words what is wrong.

    ``numbers`` are the configured business numbers (``phone_number_id``s): a change for
    any other number, or one that names none, is only counted (``WebhookBatch.foreign``),
    as Meta sends every number subscribed to the app to the same URL. None takes every
    change, for reading a body on its own (tests, tools); the provider always passes them.

    Only the envelope can make the whole POST a 400 (Meta redelivers it for days, good
    messages beside a bad one included): a message or receipt that cannot be used is kept
    as an unsupported event instead, and one whose content cannot be read is stored as an
    unsupported message, so agents see that something arrived.
    """
    try:
        return _Envelope(*_load(body), numbers=numbers).batch()
    except RecursionError as exc:  # the JSON decoder or a walk over its result
        raise PayloadError("body is nested too deeply") from exc


def _load(body: bytes) -> tuple[Any, frozenset[int]]:
    """The JSON document with every string storable, and the ids of its objects that held
    something unstorable (lone UTF-16 surrogates, bytes that are not UTF-8).

    Such characters are replaced by U+FFFD here, before anything reads the document, so no
    later step can store bytes that cannot be read back. Meta escapes everything but ASCII,
    so the walk runs only for bodies that contain a surrogate escape or raw invalid bytes.
    """
    try:
        text = body.decode("utf-8")
        suspect = _SURROGATE_ESCAPE.search(body) is not None
    except UnicodeDecodeError:
        text = body.decode("utf-8", "surrogateescape")
        suspect = True
    try:
        doc = _DECODER.decode(text)
    except ValueError as exc:  # JSONDecodeError, or an integer of more than 4,300 digits
        raise PayloadError("body is not valid JSON") from exc
    if not suspect:
        return doc, frozenset()
    repair = _Repair()
    return repair.value(doc)[0], frozenset(repair.touched)


def _refuse_constant(name: str) -> Any:
    raise PayloadError(f"body is not valid JSON ({name} is not a JSON number)")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
"""Built once: ``json.loads`` with an option builds a decoder for every body."""


MAX_REPAIR_VALUES = 32 * MAX_UPDATES
"""JSON values the repair walks in a body that holds characters to repair. An update of
Meta's has at most about 20 (a failed receipt with its pricing, conversation and error;
1,000 text messages with their contacts are 11,000); the walk is Python, so a 1 MB body of
300,000 empty lists around one cut emoji held the event loop ~0.9 s; now it is refused
after 32,000 values, in less time than decoding its JSON takes."""


class _Repair:
    """Replaces unstorable characters in strings, in place in the freshly decoded document,
    and notes which objects held one; more than :data:`MAX_REPAIR_VALUES` values is 413."""

    def __init__(self) -> None:
        self.touched: set[int] = set()
        self._left = MAX_REPAIR_VALUES

    def value(self, value: Any) -> tuple[Any, bool]:
        self._left -= 1
        if self._left < 0:
            raise TooManyUpdates(
                f"more than {MAX_REPAIR_VALUES} JSON values in a body with characters to repair"
            )
        kind = type(value)
        if kind is str:
            if _SURROGATE.search(value) is None:
                return value, False
            return _SURROGATE.sub("\ufffd", value), True
        changed = False
        if kind is list:
            for index, item in enumerate(value):
                fixed, item_changed = self.value(item)
                if item_changed:
                    value[index] = fixed
                    changed = True
        elif kind is dict:
            for key, item in list(value.items()):
                fixed, item_changed = self.value(item)
                if _SURROGATE.search(key) is not None:
                    del value[key]
                    key, item_changed = _SURROGATE.sub("\ufffd", key), True
                if item_changed:
                    value[key] = fixed
                    changed = True
            if changed:
                self.touched.add(id(value))
        return value, changed


class _Envelope:
    """One POST's walk: messages, receipts and unsupported events, each item on its own."""

    def __init__(
        self, doc: Any, repaired: frozenset[int], *, numbers: Collection[str] | None
    ) -> None:
        self._doc = doc
        self._repaired = repaired
        self._numbers = numbers
        self.foreign: list[ForeignChange] = []
        self._updates = 0
        self._budget = _Budget()
        self.messages: list[InboundMessage] = []
        self.statuses: list[StatusUpdate] = []
        self.unsupported: list[UnsupportedEvent] = []
        self.echoes: list[BusinessEcho] = []

    def batch(self) -> WebhookBatch:
        doc = self._doc
        if not isinstance(doc, dict) or doc.get("object") != "whatsapp_business_account":
            raise PayloadError('expected {"object": "whatsapp_business_account", "entry": [...]}')
        entries = doc.get("entry")
        if not isinstance(entries, list):
            raise PayloadError("entry must be a list")
        for entry in self._budget.spend(entries):
            changes = _dict(entry, "entry[]").get("changes", [])
            if not isinstance(changes, list):
                raise PayloadError("entry[].changes must be a list")
            for change in self._budget.spend(changes):
                self._change(_dict(change, "changes[]"))
        return WebhookBatch(
            messages=tuple(self.messages),
            statuses=tuple(self.statuses),
            unsupported=tuple(self.unsupported),
            echoes=tuple(self.echoes),
            foreign=tuple(self.foreign),
        )

    def _change(self, change: JSON) -> None:
        field = change.get("field")
        named = _named_number(change)
        if self._not_ours(field, change, named):
            return
        number_id = _number_id(named)
        if field == ECHOES_FIELD:
            self._echoes(_dict(change.get("value"), "changes[].value"), number_id)
            return
        if field != "messages":
            self.unsupported.append(_unsupported(_label(field), change))
            return
        value = _dict(change.get("value"), "changes[].value")
        contacts = value.get("contacts", [])
        if isinstance(contacts, list):
            self._budget.spend(contacts)
        names = _profile_names(contacts, self._repaired)
        for raw in self._items(value, "messages"):
            try:
                self.messages.append(
                    _message(
                        _dict(raw, "messages[]"), names, self._repaired, number_id, self._budget
                    )
                )
            except TooManyUpdates:
                raise
            except PayloadError as exc:
                self.unsupported.append(_unsupported(f"invalid message: {exc}", raw))
        for raw in self._items(value, "statuses"):
            try:
                self.statuses.append(_status(_dict(raw, "statuses[]")))
            except PayloadError as exc:
                self.unsupported.append(_unsupported(f"invalid status: {exc}", raw))

    def _not_ours(self, field: Any, change: JSON, number: Any) -> bool:
        """Whether the change is for a business number not configured here; such a change
        is counted, nothing of it is read further. A change of a per-number field that
        names no number cannot be routed, so it is not ours either; account-wide fields
        (template status, account updates) name none and are not checked. ``number`` is
        the one the change names (:func:`_named_number`)."""
        if self._numbers is None:
            return False
        if number is None and not (isinstance(field, str) and field in ROUTED_FIELDS):
            return False
        if isinstance(number, str) and number in self._numbers:
            return False
        value = change.get("value")
        content = value if isinstance(value, dict) else {}
        self.foreign.append(
            ForeignChange(
                number_id=_number_id(number),
                messages=_length(content, "messages") + _length(content, "message_echoes"),
                statuses=_length(content, "statuses"),
            )
        )
        return True

    def _echoes(self, value: JSON, number_id: str) -> None:
        for raw in self._items(value, "message_echoes"):
            try:
                self.echoes.append(_echo(_dict(raw, "message_echoes[]"), number_id))
            except PayloadError as exc:
                self.unsupported.append(_unsupported(f"invalid echo: {exc}", raw))

    def _items(self, value: JSON, key: str) -> list[Any]:
        found = self._budget.spend(_list(value, key))
        self._updates += len(found)
        if self._updates > MAX_UPDATES:
            raise TooManyUpdates()
        return found


def _dict(value: Any, where: str) -> JSON:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object")
    return value


def _length(value: JSON, key: str) -> int:
    found = value.get(key)
    return len(found) if isinstance(found, list) else 0


def _list(value: JSON, key: str) -> list[Any]:
    found = value.get(key, [])
    if not isinstance(found, list):
        raise PayloadError(f"value.{key} must be a list")
    return found


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _text_of(obj: JSON, key: str, where: str) -> str | None:
    """A string of a message's content; None when it is absent or null. Any other type
    makes the content unreadable (PayloadError: an unsupported message), rather than its
    ``str()`` ("['x']", "{'a': 1}") being shown to agents as what the customer wrote."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise PayloadError(f"{where}.{key} is not a string")


def _column_text(value: Any) -> str | None:
    """A string stored in a column of its own rather than in a message's JSON body: without
    NUL, which PostgreSQL's TEXT refuses (a store error, a 503 Meta redelivers for days)."""
    text = _str(value)
    return (text.replace("\x00", "") or None) if text else None


def _https_url(value: Any) -> str | None:
    """A media ``url`` the Bearer token may be sent to: https, or http on loopback (the
    sandbox). Anything else is dropped; the media is then looked up by id instead."""
    url = _str(value)
    if url is None:
        return None
    try:
        require_tls(url)
    except ValueError:
        return None
    return url


def _ident(value: Any, where: str, shape: re.Pattern[str] = _ID) -> str | None:
    """An identifier the store keys by, checked for shape and length: a NUL would cut it
    in SQLite's JSON functions (the intake's bulk path), a control character forge a log
    line, and a replaced surrogate no longer names what Meta meant."""
    if value is None:
        return None
    if not isinstance(value, str) or not shape.fullmatch(value):
        raise PayloadError(f"{where} is not a valid identifier")
    return value


def _label(value: Any) -> str:
    """A short printable name for an unsupported event; it is shown and logged, so a number
    in it is masked first (escaping would split it into runs too short to recognise)."""
    text = mask_log_text(value if isinstance(value, str) else json.dumps(value))
    return "".join(c if c.isprintable() else "?" for c in text[:_LABEL_LENGTH])


def _unsupported(field: str, raw: Any) -> UnsupportedEvent:
    """The event's field may quote the payload ("invalid message: interactive.… missing")."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()
    return UnsupportedEvent(
        field=mask_log_text(field), digest=hashlib.sha256(canonical).hexdigest()
    )


def _profile_names(contacts: Any, repaired: frozenset[int]) -> dict[str, tuple[str, bool]]:
    """Profile names by sender id, each with whether characters in it were replaced."""
    names: dict[str, tuple[str, bool]] = {}
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
                names[ident] = (name, id(contact) in repaired or id(profile) in repaired)
    return names


def _timestamp(raw: JSON) -> int:
    """Unix seconds as Meta sends them (a decimal string); the intake clamps the range."""
    value = raw.get("timestamp")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _TIMESTAMP.fullmatch(value):
        return int(value)
    raise PayloadError("timestamp missing or not Unix seconds")


def _message(
    raw: JSON,
    names: dict[str, tuple[str, bool]],
    repaired: frozenset[int],
    number_id: str,
    budget: _Budget,
) -> InboundMessage:
    """An unusable id, sender or timestamp refuses the message (PayloadError); unusable
    content makes it an unsupported message, as Meta does for types it cannot pass on.
    Each message is built once, with its business number (``number_id``)."""
    provider_id = _ident(raw.get("id"), "messages[].id")
    if provider_id is None:
        raise PayloadError("messages[].id missing")
    wa_id = _ident(raw.get("from"), "messages[].from", _WA_ID)
    user_id = _ident(raw.get("from_user_id"), "messages[].from_user_id")
    if wa_id is None and user_id is None:
        raise PayloadError("messages[] has neither from nor from_user_id")
    name, name_repaired = names.get(wa_id or "") or names.get(user_id or "") or (None, False)
    sender = Sender(
        wa_id=None if wa_id is None else WaId(wa_id), user_id=user_id, profile_name=name
    )
    type_name, kind = _kind(raw.get("type"))
    fields: dict[str, Any] = {
        "provider_id": provider_id,
        "sender": sender,
        "timestamp": _timestamp(raw),
        "kind": kind,
        "repaired": name_repaired or id(raw) in repaired,
        "error_code": _error_code(raw.get("errors")),
        "number_id": number_id,
    }
    fields.update(_context(raw.get("context")))
    fields["referral"] = _referral(raw.get("referral"))
    content = raw.get(type_name)
    if kind is not MessageKind.UNSUPPORTED:
        try:
            return InboundMessage(**fields, **_content(kind, content, budget))
        except TooManyUpdates:
            raise
        except PayloadError:
            # e.g. an ``interactive`` without its object, with error 131000: Meta sends
            # that for interactive types it cannot pass on.
            return InboundMessage(
                **{**fields, "kind": MessageKind.UNSUPPORTED}, unsupported_type=type_name
            )
    inner = content.get("type") if isinstance(content, dict) else None
    fields["unsupported_type"] = _str(inner) or (type_name if type_name != "unsupported" else None)
    return InboundMessage(**fields)


_KINDS: Final = {kind.value: kind for kind in MessageKind}


def _kind(raw_type: Any) -> tuple[str, MessageKind]:
    """A message's ``type`` as shown (masked, printable, short) and its kind. A type Empfang
    knows is shown as it came: masking and escaping change nothing in it, and would run
    for every message."""
    known = _KINDS.get(raw_type) if isinstance(raw_type, str) else None
    if known is not None:
        return raw_type, known
    type_name = _label(raw_type) if isinstance(raw_type, str) else ""
    return type_name, _KINDS.get(type_name, MessageKind.UNSUPPORTED)


def _error_code(errors: Any) -> int | None:
    """The first error's code, if it is one SQLite's INTEGER can hold."""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = errors[0].get("code")
        if isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= _MAX_ERROR_CODE:
            return code
    return None


def _referral(referral: Any) -> Referral | None:
    """The click-to-WhatsApp ad: what agents need to know where the customer came from."""
    if not isinstance(referral, dict):
        return None
    found = Referral(
        headline=_str(referral.get("headline")),
        source_url=_str(referral.get("source_url")),
    )
    return found if found.headline or found.source_url else None


def _named_number(change: JSON) -> Any:
    """What a change names as its business number (``value.metadata.phone_number_id``),
    unchecked; None if it names none."""
    value = change.get("value")
    metadata = value.get("metadata") if isinstance(value, dict) else None
    return metadata.get("phone_number_id") if isinstance(metadata, dict) else None


def _number_id(named: Any) -> str:
    """The business number a change names, if it has the shape of one; "" otherwise."""
    return named if isinstance(named, str) and _ID.fullmatch(named) else ""


def _echo(raw: JSON, number_id: str) -> BusinessEcho:
    provider_id = _ident(raw.get("id"), "message_echoes[].id")
    to = _ident(raw.get("to"), "message_echoes[].to", _WA_ID)
    if provider_id is None or to is None:
        raise PayloadError("message_echoes[] without id or to")
    raw_type = str(raw.get("type", ""))
    kind = _KINDS.get(raw_type, MessageKind.UNSUPPORTED)
    body = raw.get(raw_type)
    text = None
    if isinstance(body, dict):
        text = _column_text(body.get("body")) or _column_text(body.get("caption"))
    return BusinessEcho(
        provider_id=ProviderMessageId(provider_id),
        to=WaId(to),
        timestamp=_timestamp(raw),
        kind=kind,
        text=text,
        number_id=number_id,
    )


def _context(context: Any) -> dict[str, Any]:
    if not isinstance(context, dict):
        return {}
    found: dict[str, Any] = {}
    if _str(context.get("id")):
        found["context_id"] = context["id"]
    if context.get("forwarded") or context.get("frequently_forwarded"):
        found["forwarded"] = True
    return found


def _content(kind: MessageKind, content: Any, budget: _Budget) -> dict[str, Any]:
    """The type-specific object; PayloadError when it is missing or malformed. Lists in
    it (shared contacts, their phones, an order's items) are spent from ``budget``."""
    if kind is MessageKind.REQUEST_WELCOME:
        return {}
    if kind is MessageKind.CONTACTS:
        if not isinstance(content, list):
            raise PayloadError("messages[].contacts must be a list")
        cards = budget.spend(content)
        return {"contacts": tuple(_shared_contact(c, budget) for c in cards if isinstance(c, dict))}
    body = _dict(content, f"messages[].{kind.value}")
    if kind is MessageKind.TEXT:
        return {"text": _text_of(body, "body", "text") or ""}
    if kind in _MEDIA_KINDS:
        return {"media": _media(body)}
    if kind is MessageKind.LOCATION:
        return {"location": _location(body)}
    if kind is MessageKind.INTERACTIVE:
        return _interactive(body)
    if kind is MessageKind.BUTTON:
        payload = _text_of(body, "payload", "button") or ""
        return {"choice": Choice(id=payload, title=_text_of(body, "text", "button") or payload)}
    if kind is MessageKind.REACTION:
        target = _str(body.get("message_id"))
        if target is None:
            raise PayloadError("reaction.message_id missing")
        emoji = _text_of(body, "emoji", "reaction") or ""
        return {"reaction": Reaction(message_id=ProviderMessageId(target), emoji=emoji)}
    if kind is MessageKind.ORDER:
        return {"text": _order_summary(body, budget)}
    if kind is MessageKind.SYSTEM:
        return {"text": _str(body.get("body")), "unsupported_type": _str(body.get("type"))}
    if kind is MessageKind.EDIT:
        return _edit(body)
    # REVOKE
    return {"target_id": _str(body.get("original_message_id"))}


def _media(body: JSON) -> Media:
    """A media id that is not an id makes the message an unsupported one (PayloadError)."""
    media_id = _ident(body.get("id"), "media id", MEDIA_ID)
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
        url=_https_url(body.get("url")),
    )


def _location(body: JSON) -> Location:
    try:
        latitude = float(body["latitude"])
        longitude = float(body["longitude"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # an int of 400 digits
        raise PayloadError("location without numeric latitude/longitude") from exc
    if not (abs(latitude) <= 90 and abs(longitude) <= 180):  # NaN fails too
        raise PayloadError("location outside the globe")
    return Location(
        latitude=latitude,
        longitude=longitude,
        name=_str(body.get("name")),
        address=_str(body.get("address")),
    )


def _shared_contact(card: JSON, budget: _Budget) -> SharedContact:
    """Name and phone numbers only: e-mail, address, birthday of third parties are dropped."""
    name = card.get("name")
    formatted = ""
    if isinstance(name, dict):
        parts = [_text_of(name, part, "contacts[].name") for part in ("first_name", "last_name")]
        whole = _text_of(name, "formatted_name", "contacts[].name") or ""
        formatted = whole.strip() or " ".join(part for part in parts if part)
    phones = card.get("phones")
    return SharedContact(
        name=formatted,
        phones=tuple(
            SharedPhone(
                number=_text_of(p, "phone", "phones[]") or _text_of(p, "wa_id", "phones[]") or "",
                kind=_str(p.get("type")),
            )
            for p in (budget.spend(phones) if isinstance(phones, list) else [])
            if isinstance(p, dict)
        ),
    )


def _interactive(body: JSON) -> dict[str, Any]:
    sub = body.get("type")
    if not isinstance(sub, str) or not sub:
        raise PayloadError("interactive.type missing or not a string")
    reply = body.get(sub)
    if not isinstance(reply, dict):
        raise PayloadError(f"interactive.{sub} missing")
    if sub == "nfm_reply":
        name = _text_of(reply, "name", sub) or "flow"
        return {"choice": Choice(id=name, title=_text_of(reply, "body", sub) or name)}
    if sub == "call_permission_reply":
        accepted = reply.get("response") in ("accept", "accepted")
        permanent = accepted and reply.get("is_permanent") is True
        return {"call_permission": CallPermission(accepted=accepted, permanent=permanent)}
    choice_id = _text_of(reply, "id", sub) or ""
    return {
        "choice": Choice(
            id=choice_id,
            # A reply without a title (a type Empfang does not know yet) still says what
            # was chosen rather than nothing.
            title=_text_of(reply, "title", sub) or choice_id or sub,
            description=_text_of(reply, "description", sub) or None,
        )
    }


def _order_summary(body: JSON, budget: _Budget) -> str:
    items = body.get("product_items")
    lines = []
    for item in budget.spend(items) if isinstance(items, list) else []:
        if isinstance(item, dict):
            quantity = item.get("quantity", 1)
            if not isinstance(quantity, int) or isinstance(quantity, bool):
                raise PayloadError("order.product_items[].quantity is not a number")
            product = _text_of(item, "product_retailer_id", "order.product_items[]") or "?"
            lines.append(f"{quantity} × {product}")
    text = (_text_of(body, "text", "order") or "").strip()
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


def _status(raw: JSON) -> StatusUpdate:
    provider_id = _ident(raw.get("id"), "statuses[].id")
    status = _STATUS.get(str(raw.get("status", "")))
    if provider_id is None or status is None:
        raise PayloadError("statuses[] without id or with an unknown status")
    errors = raw.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    return StatusUpdate(
        provider_message_id=ProviderMessageId(provider_id),
        status=status,
        timestamp=_timestamp(raw),
        error_code=_error_code(errors),
        error_title=_column_text(first.get("title")) if isinstance(first, dict) else None,
    )
