"""What a customer does to earlier messages, and the business app on the same number.

Reactions, quote replies, edits and deletes are plain driver requests (``type`` reaction,
``reply_to``, edit, revoke); a tap names the button by its title, as a person would, and
is refused unless the business sent a reply button with that title. ``business_app_sends``
plays the WhatsApp Business app on the same number (coexistence): Meta reports such a
message as an ``smb_message_echoes`` webhook (pywa's ``outgoing_message.json``).
"""

from __future__ import annotations

from typing import Any

from bot.sandbox import payloads as p
from bot.sandbox.core import Sandbox
from bot.sandbox.driver import number_or_error
from bot.sandbox.errors import DriverRequestError

JSON = dict[str, Any]


def tap(sandbox: Sandbox, number: str, title: str) -> str:
    """The customer taps the button ``title`` on the latest message that has one; returns
    the wamid of the ``button_reply``."""
    for message in reversed(sandbox.inbox(number)["messages"]):
        for reply in _reply_buttons(message):
            if reply.get("title") == title:
                spec: JSON = {
                    "from": number,
                    "type": "button_reply",
                    "id": reply.get("id"),
                    "title": title,
                    "reply_to": message["id"],
                }
                return sandbox.send_message(spec)
    raise DriverRequestError(f"title: the business sent no reply button {title!r}")


def _reply_buttons(message: JSON) -> list[JSON]:
    content = message.get("content") or {}
    if message.get("type") != "interactive" or content.get("type") != "button":
        return []
    buttons = (content.get("action") or {}).get("buttons") or []
    return [b["reply"] for b in buttons if isinstance(b, dict) and isinstance(b.get("reply"), dict)]


def business_app_sends(
    sandbox: Sandbox, number: str, text: str, business: str | None = None
) -> str:
    """The business answers from the WhatsApp Business app on one of its numbers (a
    ``phone_number_id``, the first without); returns the echo's wamid."""
    wa_id = number_or_error(number, "number")
    wamid = p.new_wamid(wa_id, outbound=True)
    phones = sandbox.chat_with(business)
    echo = p.message_echo(
        phones.business, to=wa_id, wamid=wamid, timestamp=phones.timestamp(), text=text
    )
    sandbox.post_webhook(p.message_echoes_webhook(phones.business, [echo]))
    return wamid
