"""A customer's message as the intake takes it, for tests that drive the core without HTTP.

One place for the fields every such test fills the same way (a fresh provider id, the
sender, the clock's second), so the tests say only what differs: the kind and its content.
"""

from __future__ import annotations

import itertools
from typing import Any

from bot.clock import Clock
from bot.domain import InboundMessage, Sender, WebhookBatch
from bot.ids import ProviderMessageId, WaId
from bot.intake import Intake

_ids = itertools.count(1)


async def customer_sends(
    intake: Intake, clock: Clock, wa_id: str, *, profile_name: str | None = None, **content: Any
) -> ProviderMessageId:
    """Accept one message from ``wa_id`` now; returns its WhatsApp id (to react to it)."""
    message = InboundMessage(
        provider_id=ProviderMessageId(f"wamid.test{next(_ids)}"),
        sender=Sender(wa_id=WaId(wa_id), profile_name=profile_name),
        timestamp=int(clock.now()),
        **content,
    )
    await intake.accept(WebhookBatch(messages=(message,)))
    return message.provider_id
