"""Slack's wire rules for the fake (``tests.fakes.slack``): argument parsing, validation,
signatures, scopes and object shapes, as Slack's API documentation describes them.

Pure functions only; the server in ``tests.fakes.slack`` decides when they apply.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml  # type: ignore[import-untyped]

JSON = dict[str, Any]

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"


class ApiError(Exception):
    """An HTTP-200 ``{"ok": false, "error": code}`` answer (plus optional extra fields)."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra

    def body(self) -> JSON:
        return {"ok": False, "error": self.code, **self.extra}


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str]:
    """The bot scopes the repository's app manifest requests: what an install grants."""
    manifest = yaml.safe_load(path.read_text("utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


# -- request parsing -------------------------------------------------------------------------


def merge_arguments(query: str, content_type: str, body: bytes) -> JSON:
    """Query string, then the JSON or form body on top (AsyncWebClient sends ``params`` in
    the query string of a POST with an empty body, ``json`` methods as a JSON body)."""
    args: JSON = dict(parse_qsl(query, keep_blank_values=True))
    if not body:
        return args
    if content_type.startswith("application/json"):
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise ApiError("invalid_json") from exc
        if not isinstance(parsed, dict):
            raise ApiError("invalid_json")
        args.update(parsed)
    else:
        args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return args


def truthy(value: Any) -> bool:
    """``true``/``1`` as a query or form value, or a JSON boolean."""
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true")


def json_argument(value: Any, code: str) -> Any:
    """Blocks, attachments and metadata may come as JSON values or JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(code) from exc
    return value


# -- scopes ----------------------------------------------------------------------------------

METHOD_SCOPES: dict[str, tuple[str, str] | str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write",
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
    "users.info": "users:read",
    "conversations.replies": ("channels:history", "groups:history"),
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.members": ("channels:read", "groups:read"),
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",
}
"""Scope per method; a pair is (public channel, private channel)."""


def needed_scope(method: str, private: bool) -> str | None:
    scope = METHOD_SCOPES.get(method)
    if isinstance(scope, tuple):
        return scope[1] if private else scope[0]
    return scope


# -- validation ------------------------------------------------------------------------------

BLOCK_TYPES = frozenset(
    {"section", "context", "actions", "divider", "header", "image", "rich_text", "input"}
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
MAX_TEXT_CHARS = 40_000


def _text_object(obj: Any, *, limit: int, plain_only: bool = False) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
        raise ApiError("invalid_blocks")
    if plain_only and obj["type"] != "plain_text":
        raise ApiError("invalid_blocks")
    text = obj.get("text")
    if not isinstance(text, str) or not text or len(text) > limit:
        raise ApiError("invalid_blocks")


def _button(element: Any) -> None:
    if not isinstance(element, dict) or element.get("type") != "button":
        raise ApiError("invalid_blocks")
    _text_object(element.get("text"), limit=75, plain_only=True)
    action_id = element.get("action_id", "")
    if not isinstance(action_id, str) or len(action_id) > 255:
        raise ApiError("invalid_blocks")
    if len(str(element.get("value", ""))) > 2000:
        raise ApiError("invalid_blocks")
    if element.get("style") not in (None, "primary", "danger"):
        raise ApiError("invalid_blocks")


def validate_blocks(value: Any) -> list[JSON]:
    """The Block Kit rules the bot's root card touches; ``invalid_blocks`` otherwise."""
    blocks = json_argument(value, "invalid_blocks_format")
    if not isinstance(blocks, list) or len(blocks) > 50:
        raise ApiError("invalid_blocks_format")
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            raise ApiError("invalid_blocks")
        kind = block["type"]
        if len(str(block.get("block_id", ""))) > 255:
            raise ApiError("invalid_blocks")
        if kind == "section":
            _text_object(block.get("text"), limit=3000)
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
                raise ApiError("invalid_blocks")
            for element in elements:
                _text_object(element, limit=3000)
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                raise ApiError("invalid_blocks")
            for element in elements:
                _button(element)
            ids = [e.get("action_id") for e in elements if e.get("action_id")]
            if len(ids) != len(set(ids)):
                raise ApiError("invalid_blocks")
    return blocks


def validate_metadata(value: Any) -> JSON:
    metadata = json_argument(value, "invalid_metadata_format")
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise ApiError("invalid_metadata_format")
    return metadata


# -- emoji -----------------------------------------------------------------------------------

STANDARD_EMOJI = frozenset(
    {
        "hourglass_flowing_sand",
        "hourglass",
        "heavy_check_mark",
        "white_check_mark",
        "ballot_box_with_check",
        "eyes",
        "x",
        "warning",
        "lock",
        "thumbsup",
        "+1",
        "email",
        "envelope",
        "outbox_tray",
        "inbox_tray",
        "speech_balloon",
        "negative_squared_cross_mark",
        "no_entry",
        "heavy_multiplication_x",
        "heart",
        "joy",
        "open_mouth",
        "cry",
        "pray",
        "tada",
        "-1",
    }
)
"""Names reactions.add accepts here; anything else is ``invalid_name`` (real Slack knows
more, but an emoji the bot uses must be a real standard name, e.g. not ``check``)."""


# -- signatures ------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``X-Slack-Signature`` v0: HMAC-SHA256 over ``v0:<timestamp>:<raw body>``."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


# -- object shapes ---------------------------------------------------------------------------


def user_object(
    user_id: str,
    team_id: str,
    name: str,
    *,
    real_name: str,
    display_name: str,
    is_bot: bool,
    bot_id: str | None = None,
) -> JSON:
    profile: JSON = {
        "display_name": display_name,
        "display_name_normalized": display_name,
        "real_name": real_name,
        "real_name_normalized": real_name,
        "team": team_id,
        "image_48": "https://a.slack-edge.com/fake_48.png",
    }
    if bot_id is not None:
        profile["bot_id"] = bot_id
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name,
        "deleted": False,
        "real_name": real_name,
        "tz": "Europe/Berlin",
        "tz_label": "Central European Time",
        "tz_offset": 3600,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": 1700000000,
        "profile": profile,
    }


def rich_text(text: str) -> list[JSON]:
    """The ``blocks`` Slack's clients attach to a typed message."""
    return [
        {
            "type": "rich_text",
            "block_id": hashlib.sha1(text.encode()).hexdigest()[:5],
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]
