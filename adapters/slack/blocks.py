"""What the bot posts, in Slack's terms: the Block Kit thread root, escaped text, metadata.

Everything here is already masked (``bot.render`` made it); this module only keeps Slack
from reading customer text as markup: ``&``, ``<`` and ``>`` are escaped, so a customer who
writes ``<!channel>`` or ``<@U…>`` cannot ping anyone or forge a link.
"""

from __future__ import annotations

import re
from typing import Any

from bot.domain import DeliveryStatus
from bot.ports import ThreadRoot
from bot.texts import Texts

CLAIM = "claim"
CLOSE = "close"
ACTIONS = (CLAIM, CLOSE)
"""``action_id`` of the root's buttons; the button's ``value`` is the conversation id."""
SEND_TEMPLATE = "send_template"
"""The root's button that opens the template form (``adapters.slack.modal``), not an
action for the relay: the form's submission is."""

METADATA_EVENT = "empfang_post"
"""``metadata.event_type`` of every post; ``event_payload.key`` is the idempotency key."""

STATUS_EMOJI: dict[DeliveryStatus, str] = {
    DeliveryStatus.QUEUED: "hourglass_flowing_sand",
    DeliveryStatus.SENT: "heavy_check_mark",
    DeliveryStatus.DELIVERED: "white_check_mark",
    DeliveryStatus.READ: "eyes",
    DeliveryStatus.FAILED: "x",
}
"""Reactions on an agent's reply: ⏳ queued, ✔️ sent, ✅ delivered, 👀 read, ❌ failed
(Slack has no double tick; ✅ stands in for WhatsApp's ✓✓)."""

MAX_CONTEXT_ELEMENTS = 10
MAX_TEXT = 3000
"""Block Kit limits: a context block holds 10 elements, a text object 3000 characters."""


def escape(text: str) -> str:
    """Slack's three control characters as entities (api.slack.com formatting rules)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MENTION = re.compile(r"(<!subteam\^[A-Z0-9]+(?:\|[^<>]*)?>|<@[UW][A-Z0-9]+>)")


def escape_keeping_mentions(text: str) -> str:
    """Escape everything except on-call mentions configured by the admin."""
    parts = _MENTION.split(text)
    return "".join(part if index % 2 else escape(part) for index, part in enumerate(parts))


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def root_text(root: ThreadRoot) -> str:
    """The notification / fallback text of the root (``text`` next to ``blocks``)."""
    return escape("\n".join((root.title, *root.lines)))


def _button(action_id: str, label: str, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": value,
        **extra,
    }


def root_blocks(root: ThreadRoot, texts: Texts) -> list[dict[str, Any]]:
    """Title, details, and the Claim / Close buttons while the conversation is open.

    The actions block's id changes with the state, as Slack advises when a message with
    inputs is updated; a claimed root names the agent and offers "Take over" instead.
    """
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(f"*{escape(root.title)}*")}}
    ]
    details = [{"type": "mrkdwn", "text": _clip(escape(line))} for line in root.lines if line]
    if details:
        blocks.append({"type": "context", "elements": details[:MAX_CONTEXT_ELEMENTS]})
    if root.state == "closed":
        return blocks
    value = str(root.conversation_id)
    claim_label = texts.button_take_over if root.claimed_by else texts.button_claim
    close = _button(
        CLOSE,
        texts.button_close,
        value,
        style="danger",
        confirm={
            "title": {"type": "plain_text", "text": texts.close_confirm_title},
            "text": {"type": "plain_text", "text": texts.close_confirm_text},
            "confirm": {"type": "plain_text", "text": texts.button_close},
            "deny": {"type": "plain_text", "text": texts.button_cancel},
        },
    )
    claim = _button(CLAIM, claim_label, value, **({} if root.claimed_by else {"style": "primary"}))
    blocks.append(
        {
            "type": "actions",
            "block_id": f"empfang-{root.state}{'-claimed' if root.claimed_by else ''}",
            "elements": [claim, close, _button(SEND_TEMPLATE, texts.button_send_template, value)],
        }
    )
    return blocks


def notice_blocks(notice: str) -> list[dict[str, Any]]:
    """What a removed thread's root shows instead of the card (no buttons, no details)."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": _clip(escape(notice))}}]


def metadata(key: str) -> dict[str, Any]:
    """Message metadata carrying the idempotency key, so a retry can find its earlier post."""
    return {"event_type": METADATA_EVENT, "event_payload": {"key": key}}


def metadata_key(message: dict[str, Any]) -> str | None:
    """The idempotency key of a message the bot posted, if it carries one."""
    meta = message.get("metadata")
    if not isinstance(meta, dict) or meta.get("event_type") != METADATA_EVENT:
        return None
    payload = meta.get("event_payload")
    key = payload.get("key") if isinstance(payload, dict) else None
    return key if isinstance(key, str) else None
