"""Plain-words explanations of failed sends, posted in the thread for the agent."""

from __future__ import annotations

_BY_CODE = {
    131047: (
        "❌ Not delivered: the 24-hour window is closed. The customer's last message was more "
        "than 24 hours ago, and WhatsApp now only allows approved template messages. Ask the "
        "customer to write again, or contact them through another channel."
    ),
    131026: (
        "❌ Not delivered: this customer's number cannot receive WhatsApp messages (not on "
        "WhatsApp, an outdated app, or WhatsApp's terms not accepted)."
    ),
    190: (
        "❌ Not sent: the WhatsApp access token has expired or is invalid. Please tell your "
        "Empfang admin to renew whatsapp.access_token; messages will not go out until then."
    ),
    130429: "❌ Not sent: WhatsApp's rate limit was hit repeatedly. Please send again shortly.",
    131056: (
        "❌ Not sent: too many messages to this customer in a short time. Wait a minute, "
        "then send again."
    ),
}


def failure(code: int | None, title: str | None) -> str:
    if code in _BY_CODE:
        return _BY_CODE[code]
    detail = f"WhatsApp error {code}" if code is not None else "WhatsApp refused the message"
    return f"❌ Not delivered: {detail}" + (f" ({title})." if title else ".")
