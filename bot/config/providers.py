"""What each WhatsApp provider in use needs, by the numbers that use it.

A number's ``provider`` (``[[numbers]]``, else ``[whatsapp] provider``) decides whose
credentials must be there: Cloud API (or sandbox) numbers need ``[whatsapp]``'s token and
secrets, Twilio numbers ``[twilio]``'s account, so a process with numbers of both kinds
needs both and a Twilio-only one needs no ``[whatsapp]`` token. The Cloud side is one Graph
API per process, so Cloud and sandbox numbers do not mix.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.config.base import is_loopback
from bot.config.numbers import Number
from bot.config.sections import SandboxSection, WhatsAppSection
from bot.config.twilio import TwilioSection

CLOUD_KEYS = ("access_token", "app_secret", "verify_token")


def provider_problems(
    numbers: Sequence[Number],
    *,
    numbered: bool,
    whatsapp: WhatsAppSection,
    twilio: TwilioSection,
    sandbox: SandboxSection,
    public_url: str,
) -> list[str]:
    """Problems by key path; ``numbered``: ``[[numbers]]`` names the numbers (then the
    global ``phone_number_id`` and ``from_number`` are not needed)."""
    kinds = {number.provider for number in numbers}
    found: list[str] = []
    if "twilio" in kinds:
        found += twilio.problems(public_url, need_sender=not numbered)
    cloud_kinds = sorted(kinds - {"twilio"})
    if not cloud_kinds:
        return found
    if len(cloud_kinds) > 1:
        index = next(i for i, n in enumerate(numbers) if n.provider == "sandbox")
        found.append(
            f'numbers[{index}].provider: "cloud" and "sandbox" numbers cannot be mixed '
            "(one Graph API per process: [whatsapp] api_base)"
        )
    kind = cloud_kinds[0]
    keys = CLOUD_KEYS if numbered else ("phone_number_id", *CLOUD_KEYS)
    for name in keys:
        value = getattr(whatsapp, name)
        text = value if isinstance(value, str) else value.get_secret_value()
        if not text:
            found.append(f'whatsapp.{name}: required for provider = "{kind}"')
    base = whatsapp.model_copy(update={"provider": kind}).resolved_api_base(sandbox)
    if not base.startswith("https://") and not is_loopback(base):
        found.append("whatsapp.api_base: must be https:// (plain http only for loopback)")
    return found
