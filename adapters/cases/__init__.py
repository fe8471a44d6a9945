"""Case-system sinks (webhook, Zammad, e-mail, JSONL) and the factory that builds them."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.cases.email import EmailSink
from adapters.cases.jsonl import JsonlSink
from adapters.cases.webhook import WebhookSink
from adapters.cases.zammad import ZammadSink
from bot.cases.hooks import CaseTransfers
from bot.cases.model import CaseSink
from bot.config import Settings
from bot.config.cases import (
    CaseSinkSettings,
    EmailSinkSection,
    JsonlSinkSection,
    WebhookSinkSection,
    ZammadSinkSection,
)
from bot.ports import ChatPlatform
from bot.store import Store


def build_sink(settings: CaseSinkSettings) -> CaseSink:
    """The sink for one ``[[cases]]`` table."""
    if isinstance(settings, WebhookSinkSection):
        return WebhookSink(settings)
    if isinstance(settings, ZammadSinkSection):
        return ZammadSink(settings)
    if isinstance(settings, EmailSinkSection):
        return EmailSink(settings)
    assert isinstance(settings, JsonlSinkSection)
    return JsonlSink(settings)


def build_sinks(settings: Sequence[CaseSinkSettings]) -> list[CaseSink]:
    return [build_sink(entry) for entry in settings]


def build_case_transfers(
    store: Store, settings: Settings, chat: ChatPlatform
) -> CaseTransfers | None:
    """The relay's case hooks for ``[[cases]]``, alerting in the chat; None without sinks."""
    if not settings.cases:
        return None
    return CaseTransfers(
        store,
        build_sinks(settings.cases),
        privacy=settings.privacy,
        on_alert=lambda alert: chat.alert(alert.text, thread_id=alert.thread_id, key=alert.key),
    )


__all__ = [
    "EmailSink",
    "JsonlSink",
    "WebhookSink",
    "ZammadSink",
    "build_case_transfers",
    "build_sink",
    "build_sinks",
]
