"""What a request to Slack's HTTP routes must be before anything acts on it: its v0
signature checked over the raw bytes, then the one validation step of its body.

The signature is computed here, on bytes, rather than by ``slack_sdk``'s
``SignatureVerifier``: that one decodes the body as text first, so a signed body that is
not UTF-8 raised ``UnicodeDecodeError`` (a 503, i.e. a redelivery), and a signature header
that is not ASCII raised ``TypeError`` in ``hmac.compare_digest``.

A verified body is then checked against :data:`EVENT_ENVELOPE` or
:data:`INTERACTION_PAYLOAD`: every field the adapter (``events``, ``reactions``,
``attachments``, ``modal``, ``receiver``) or bolt's routing reads must have the type it
reads it as, or be absent or null, and a Slack id or timestamp its documented shape
(:data:`ID`, :data:`TS`): those are logged and looked up, so a newline or 20,000
characters in one forged a log line. A wrong type anywhere is one :class:`MalformedRequest`
(400, naming the field by its place in the schema, never by what the request held),
instead of a ``TypeError`` (an unhashable list tested against a set of channels) or an
``AttributeError`` deep in a listener, which bolt answered with a 500.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.request.internals import parse_body

from bot.errors import PayloadError
from bot.hmac_hex import hmac_sha256_hex

REPLAY_WINDOW_SECONDS = 300
"""Slack's own window: a request whose timestamp is further from now is refused."""
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_SURROGATE = re.compile("[\ud800-\udfff]")
"""A JSON escape like ``\\ud83d`` alone decodes to a string no UTF-8 store can hold."""
SHOWN_LENGTH = 40
"""Longer than any Slack id (:data:`ID`, :data:`EVENT_ID`), short enough for a log line."""


class MalformedRequest(PayloadError):
    """A verified Slack request whose body is not what Slack sends; answered 400 (Slack
    is told not to retry: the same body fails the same way)."""


def signed(secret: bytes, body: bytes, timestamp: str, signature: str, now: float) -> bool:
    """Slack's v0 signature (HMAC-SHA256 of ``v0:<timestamp>:<body>``) over the raw
    bytes, the timestamp Unix seconds within :data:`REPLAY_WINDOW_SECONDS` of ``now``. A
    header of any other form (not ASCII, not hex, another version) is simply not valid."""
    if not _UNIX_SECONDS.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False
    if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        return False
    mac = hmac_sha256_hex(secret, b"v0:", timestamp.encode("ascii"), b":", body)
    return hmac.compare_digest(b"v0=" + mac.encode("ascii"), signature.encode("ascii"))


def shown(value: object) -> str:
    """A value taken from a request, as part of one log line: cut at
    :data:`SHOWN_LENGTH`, every control and non-ASCII character escaped (``\\n``,
    ``\\u2474``; what Slack gives out is ASCII, and so digits of another script cannot
    pass the log's number mask). The schema constrains what HTTP mode reads; this holds for
    what it does not (Socket Mode's events, headers such as ``X-Slack-Retry-Num``), so no
    request can forge a line, or make one 30 KB long."""
    text = str(value)
    return ascii(text[:SHOWN_LENGTH])[1:-1] + ("…" if len(text) > SHOWN_LENGTH else "")


# -- the schema ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Obj:
    """A JSON object; the named fields, where present and not null, match their spec.
    Fields nobody reads are not checked."""

    fields: Mapping[str, Spec]
    required: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Shaped:
    """A JSON string of a documented shape, e.g. an id Slack gives out. It is matched as a
    whole, so a value the adapter logs or looks up can hold no line break, no digits of
    another script and nothing long."""

    pattern: re.Pattern[str]
    name: str


ID = Shaped(re.compile(r"[A-Z0-9]{1,32}"), "a Slack id")
"""A channel (C…, G…, D…), user (U…, W…), team (T…, E…), bot (B…), app (A…), file (F…) or
view (V…) id: uppercase ASCII letters and digits (slack.md: ``C0123ABCDEF``)."""
EVENT_ID = Shaped(re.compile(r"Ev[A-Z0-9]{1,32}"), "an event id")
"""``Ev`` and uppercase ASCII letters and digits (slack.md §1b: ``"event_id":"Ev…"``)."""
TS = Shaped(re.compile(r"[0-9]{1,12}\.[0-9]{1,9}"), "a Slack timestamp")
"""A message's ``ts``: ``"<seconds>.<6 digits>"`` (slack.md: ``"1726133700.887259"``)."""


@dataclass(frozen=True)
class ListOf:
    """A JSON array whose every item matches ``item``."""

    item: Spec


@dataclass(frozen=True)
class MapOf:
    """A JSON object with keys of any name, every value matching ``value``."""

    value: Spec


Spec = type | Shaped | Obj | ListOf | MapOf
"""``str``, ``int``, ``bool`` (exactly; ``True`` is no int), or one of the above."""

_FILE = Obj(
    {
        "id": ID,
        "name": str,
        "mimetype": str,
        "mode": str,
        "url_private": str,
        "url_private_download": str,
        "size": int,
    }
)
_MESSAGE_FIELDS: dict[str, Spec] = {
    "type": str,
    "subtype": str,
    "channel": ID,
    "user": ID,
    "bot_id": ID,
    "app_id": ID,
    "ts": TS,
    "thread_ts": TS,
    "text": str,
    "team": ID,
    "user_team": ID,
    "files": ListOf(_FILE),
}
_MESSAGE = Obj(_MESSAGE_FIELDS)
_EVENT = Obj(
    {
        **_MESSAGE_FIELDS,
        "message": _MESSAGE,
        "previous_message": _MESSAGE,
        "item": Obj({"type": str, "channel": ID, "ts": TS}),
        "reaction": str,
        "event_ts": TS,
    },
    required=frozenset({"type"}),
)
_AUTHORIZATION = Obj(
    {
        "enterprise_id": ID,
        "team_id": ID,
        "user_id": ID,
        "is_bot": bool,
        "is_enterprise_install": bool,
    }
)
EVENT_ENVELOPE = Obj(
    {
        "type": str,
        "event_id": EVENT_ID,
        "team_id": ID,
        "enterprise_id": ID,
        "api_app_id": ID,
        "challenge": str,
        "token": str,
        "is_ext_shared_channel": bool,
        "authorizations": ListOf(_AUTHORIZATION),
        "event": Obj({"type": str}, required=frozenset({"type"})),
    },
    required=frozenset({"type"}),
)
"""An Events API body (slack.md §1b); its ``event`` is checked against the event schema
when it is of a type the bot listens to (:data:`EVENT_TYPES`), others are not read."""
ENVELOPE_TYPES = frozenset({"url_verification", "event_callback", "app_rate_limited"})
EVENT_TYPES = ("message", "reaction_added", "reaction_removed")
"""The events the bot listens to (``receiver``)."""
_TYPED = Obj({"type": str}, required=frozenset({"type"}))

_ACTION = Obj({"action_id": str, "block_id": str, "value": str, "type": str, "action_ts": TS})
_BLOCK_ACTIONS = Obj(
    {"actions": ListOf(Obj({"action_id": str}, required=frozenset({"action_id"})))}
)
"""What a ``block_actions`` payload needs besides :data:`INTERACTION_PAYLOAD`: bolt routes it
by ``actions[0]["action_id"]``, read unguarded. Only there: a legacy ``interactive_message``
(``actions[].name``, no ``action_id``) is routed by ``callback_id``, and no listener
handles it (200, ignored)."""
_INPUT = Obj({"value": str, "selected_option": Obj({"value": str})})
_VIEW = Obj(
    {
        "id": ID,
        "hash": str,
        "type": str,
        "callback_id": str,
        "private_metadata": str,
        "team_id": ID,
        "app_installed_team_id": ID,
        "state": Obj({"values": MapOf(MapOf(_INPUT))}),
    },
    required=frozenset({"type"}),  # bolt: body["view"]["type"] on every submission
)
INTERACTION_PAYLOAD = Obj(
    {
        "type": str,
        "callback_id": str,  # bolt routes interactive_message, dialogs, shortcuts by it
        "trigger_id": str,
        "response_url": str,
        "api_app_id": ID,
        "token": str,
        "is_enterprise_install": bool,
        "user": Obj({"id": ID, "team_id": ID, "username": str, "name": str}),
        "team": Obj({"id": ID, "enterprise_id": ID, "domain": str}),
        "enterprise": Obj({"id": ID}),
        "channel": Obj({"id": ID, "name": str}),
        "container": Obj(
            {"type": str, "channel_id": ID, "message_ts": TS, "thread_ts": TS, "view_id": ID}
        ),
        "message": _MESSAGE,
        "actions": ListOf(_ACTION),
        "view": _VIEW,
    },
    required=frozenset({"type"}),
)
"""The ``payload`` of an interactivity request (slack.md §5): button presses, the
template form's select and submission."""

_REQUIRED_BY_TYPE = {
    "event_callback": "event",
    "url_verification": "challenge",
    "block_actions": "actions",
    "interactive_message": "actions",
    "view_submission": "view",
    "workflow_step_edit": "workflow_step",
}
"""The field without which a body of that ``type`` means nothing (bolt reads it
unguarded: ``body["actions"][0]``, ``body["view"]["callback_id"]``)."""


def check(doc: Any, spec: Spec, where: str) -> None:
    """Raise :class:`MalformedRequest` naming the first place where ``doc`` breaks ``spec``."""
    if isinstance(spec, type):
        if type(doc) is not spec:
            raise MalformedRequest(f"{where} is not {_NAMES[spec]}")
        if isinstance(doc, str) and _SURROGATE.search(doc):
            raise MalformedRequest(f"{where} is not text (a lone surrogate)")
    elif isinstance(spec, Shaped):
        check(doc, str, where)
        if not spec.pattern.fullmatch(doc):
            raise MalformedRequest(f"{where} is not {spec.name}")
    elif isinstance(spec, Obj):
        if not isinstance(doc, dict):
            raise MalformedRequest(f"{where} is not an object")
        for name, inner in spec.fields.items():
            value = doc.get(name)
            if value is None:
                if name in spec.required:
                    raise MalformedRequest(f"{where}.{name} is missing")
                continue
            check(value, inner, f"{where}.{name}")
    elif isinstance(spec, ListOf):
        if not isinstance(doc, list):
            raise MalformedRequest(f"{where} is not an array")
        for item in doc:
            check(item, spec.item, f"{where}[]")
    else:
        if not isinstance(doc, dict):
            raise MalformedRequest(f"{where} is not an object")
        for value in doc.values():
            check(value, spec.value, f"{where}.*")


_NAMES = {str: "a string", int: "an integer", bool: "a boolean"}


def checked_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The verified ``body`` as bolt will read it (its own ``parse_body``, so what is
    checked is what its listeners get), checked against the schema of its ``type``: an
    Events API envelope or an interaction payload, whichever route it came by."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest("the body is not UTF-8") from exc
    try:
        doc = parse_body(text, content_type)
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest("the body is not JSON, or its payload field is not") from exc
    check(doc, _TYPED, "body")
    kind = doc["type"]
    if kind in ENVELOPE_TYPES:
        check(doc, EVENT_ENVELOPE, "body")
        event = doc.get("event")
        if event is not None and event["type"] in EVENT_TYPES:
            check(event, _EVENT, "body.event")
    else:
        check(doc, INTERACTION_PAYLOAD, "body")
        if kind == "block_actions":
            check(doc, _BLOCK_ACTIONS, "body")
    needed = _REQUIRED_BY_TYPE.get(kind)
    if needed is not None and not doc.get(needed):
        raise MalformedRequest(f"body.{needed} is missing or empty")
    workflow_step = kind == "view_submission" and doc["view"]["type"] == "workflow_step"
    if workflow_step and not doc.get("workflow_step"):  # bolt reads body["workflow_step"]
        raise MalformedRequest("body.workflow_step is missing or empty")
    return doc
