"""``empfang check-config --online`` for WhatsApp: ask Meta (or the sandbox) whether it works.

``GET /{phone_number_id}`` proves in one call that the access token is valid and that the
number belongs to what the token may use; its answer (display number, verified name,
quality) shows the admin it is the right number. ``GET /{waba_id}/subscribed_apps`` shows
whether any app receives the account's webhooks: without a subscription Meta sends nothing,
and the bot waits silently. Which fields (``messages``) an app receives is set in the App
Dashboard and cannot be read with the access token, so that part stays a README step.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx

from adapters.whatsapp.errors import error_from_response
from bot.config import SandboxSection, WhatsAppSection
from bot.errors import TokenInvalid
from bot.online import OnlineReport
from bot.privacy import mask_number

_UNKNOWN_OBJECT = 100
_NON_DIGITS = re.compile(r"\D")


async def _ask(
    client: httpx.AsyncClient, report: OnlineReport, key: str, url: str
) -> dict[str, Any] | None:
    """The answer's body, or None after recording why there is none.

    A token error names the token, whichever call saw it; an unknown id names ``key``.
    """
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        report.problem("whatsapp.api_base", f"cannot reach {url} ({type(exc).__name__})")
        return None
    if response.status_code < 400:
        body = response.json()
        return body if isinstance(body, dict) else {}
    error = error_from_response(response)
    if isinstance(error, TokenInvalid):
        report.problem("whatsapp.access_token", f"rejected by Meta ({error})")
    elif error.code == _UNKNOWN_OBJECT:
        report.problem(key, f"unknown to this access token ({error})")
    else:
        report.problem(key, f"Meta refused the check ({error})")
    return None


async def check_online(section: WhatsAppSection, sandbox: SandboxSection) -> OnlineReport:
    """Every finding by TOML key; ``problems`` empty when Meta accepts the configuration."""
    report = OnlineReport()
    base = section.resolved_api_base(sandbox)
    headers = {"Authorization": f"Bearer {section.access_token.get_secret_value()}"}
    async with httpx.AsyncClient(headers=headers, timeout=section.timeout_seconds) as client:
        number = await _ask(
            client,
            report,
            "whatsapp.phone_number_id",
            f"{base}/{quote(section.phone_number_id, safe='')}",
        )
        if number is None:
            return report
        report.fact("whatsapp.phone_number_id", _describe_number(number))
        if not section.waba_id:
            report.warning(
                "whatsapp.waba_id",
                "skipped: set whatsapp.waba_id to check that an app receives the account's "
                "webhooks",
            )
            return report
        apps = await _ask(
            client,
            report,
            "whatsapp.waba_id",
            f"{base}/{quote(section.waba_id, safe='')}/subscribed_apps",
        )
    if apps is not None:
        _subscriptions(report, section.waba_id, apps)
    return report


def _describe_number(number: dict[str, Any]) -> str:
    """Masked like every number Empfang prints; the verified name identifies the account."""
    digits = _NON_DIGITS.sub("", str(number.get("display_phone_number") or ""))
    shown = mask_number(digits) if digits else "no display number"
    name = number.get("verified_name") or "no verified name"
    quality = number.get("quality_rating") or "unknown"
    return f"{shown} ({name}), quality {quality}"


def _subscriptions(report: OnlineReport, waba_id: str, apps: dict[str, Any]) -> None:
    names = [
        str((entry.get("whatsapp_business_api_data") or {}).get("name") or "unnamed app")
        for entry in apps.get("data") or []
        if isinstance(entry, dict)
    ]
    if not names:
        report.problem(
            "whatsapp.waba_id",
            "no app is subscribed to this account's webhooks, so Meta sends no messages; "
            f"subscribe with POST /{waba_id}/subscribed_apps (README, WhatsApp Cloud API)",
        )
        return
    report.fact(
        "whatsapp.waba_id",
        f"webhooks go to {', '.join(names)}; the App Dashboard must have the messages field "
        "subscribed",
    )
