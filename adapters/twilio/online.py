"""``empfang check-config --online`` for Twilio: does the account take the credentials?

``GET /2010-04-01/Accounts/{AccountSid}.json`` with the Account SID and Auth Token proves in
one call that both are right, and its ``status`` that the account may send (a suspended or
closed account refuses every message). Whether the sender is enabled for WhatsApp and where
its webhook points is configured in the Twilio Console and cannot be read here; that stays
a README step.
"""

from __future__ import annotations

import httpx

from adapters.twilio.errors import error_from_response
from bot.config import TwilioSection
from bot.errors import TokenInvalid
from bot.online import OnlineReport


async def check_online(section: TwilioSection) -> OnlineReport:
    """Every finding by TOML key; ``problems`` empty when Twilio accepts the account."""
    report = OnlineReport()
    url = f"{section.api_base.rstrip('/')}/2010-04-01/Accounts/{section.account_sid}.json"
    auth = (section.account_sid, section.auth_token.get_secret_value())
    try:
        async with httpx.AsyncClient(auth=auth, timeout=section.timeout_seconds) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        report.problem("twilio.api_base", f"cannot reach {url} ({type(exc).__name__})")
        return report
    if response.status_code >= 400:
        error = error_from_response(response)
        key = "twilio.auth_token" if isinstance(error, TokenInvalid) else "twilio.account_sid"
        report.problem(key, f"rejected by Twilio ({error})")
        return report
    account = response.json()
    status = str(account.get("status") or "unknown") if isinstance(account, dict) else "unknown"
    name = account.get("friendly_name") if isinstance(account, dict) else None
    if status != "active":
        report.problem("twilio.account_sid", f"the account is {status}; it cannot send")
        return report
    report.fact("twilio.account_sid", f"{name or 'unnamed account'}, active")
    return report
