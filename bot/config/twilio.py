"""``[twilio]``: Twilio's WhatsApp API as the provider (``[whatsapp] provider = "twilio"``).

Twilio signs every webhook with the account's Auth Token over the URL it requested, so
Empfang must know that URL exactly as Twilio calls it (behind a proxy it is the public one,
not the one the bot listens on); the same URL is given to Twilio as each send's
``StatusCallback``.
"""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from bot.config.base import OutboundUrl, Section, require_tls

WEBHOOK_PATH = "/webhooks/twilio"
"""Where the bot takes Twilio's webhooks (inbound messages and status callbacks)."""
API_BASE = "https://api.twilio.com"

SENDER = re.compile(r"whatsapp:\+[1-9][0-9]{6,14}")
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")


class TwilioSection(Section):
    account_sid: str = ""
    """``AC…`` from the Twilio Console's account info."""
    auth_token: SecretStr = SecretStr("")
    """The account's primary Auth Token: it authenticates sends and signs webhooks."""
    from_number: str = ""
    """The WhatsApp sender, written as Twilio does: ``whatsapp:+14155238886``."""
    webhook_url: str = ""
    """The public URL Twilio calls, exactly as configured at Twilio (kept as written: a
    trailing slash changes the signature); empty: ``server.public_url`` +
    ``/webhooks/twilio``."""
    api_base: OutboundUrl = API_BASE
    timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("from_number")
    @classmethod
    def _whatsapp_address(cls, value: str) -> str:
        if value and not SENDER.fullmatch(value):
            raise ValueError('must be the WhatsApp sender as "whatsapp:+<digits>"')
        return value

    @field_validator("account_sid")
    @classmethod
    def _sid(cls, value: str) -> str:
        if value and not _ACCOUNT_SID.fullmatch(value) and "CHANGE-ME" not in value:
            raise ValueError("must be the Account SID: AC followed by 32 hex digits")
        return value

    def signed_url(self, public_url: str) -> str:
        """The URL Twilio's signatures cover: ``webhook_url``, or the server's public URL
        with the Twilio path. Empty when neither is configured."""
        if self.webhook_url:
            return self.webhook_url
        return public_url.rstrip("/") + WEBHOOK_PATH if public_url else ""

    def problems(self, public_url: str, *, need_sender: bool = True) -> list[str]:
        """What keeps ``provider = "twilio"`` from starting, by key path; ``need_sender``
        is False where ``[[numbers]]`` entries name the senders."""
        found = [
            f'twilio.{name}: required for provider = "twilio"'
            for name, value in (
                ("account_sid", self.account_sid),
                ("auth_token", self.auth_token.get_secret_value()),
                ("from_number", self.from_number or not need_sender),
            )
            if not value
        ]
        url = self.signed_url(public_url)
        if not url:
            found.append(
                "twilio.webhook_url: required (or server.public_url): Twilio signs its "
                "webhooks over this URL"
            )
        else:
            try:
                require_tls(url)
            except ValueError as exc:
                found.append(f"twilio.webhook_url: {exc}")
        return found
