"""Case-system sinks (webhook, Zammad, e-mail, JSONL) and the factory that builds them."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.cases.email import EmailSink
from adapters.cases.jsonl import JsonlSink
from adapters.cases.webhook import WebhookSink
from adapters.cases.zammad import ZammadSink
from bot.cases.model import CaseSink
from bot.config.cases import (
    CaseSinkSettings,
    EmailSinkSection,
    JsonlSinkSection,
    WebhookSinkSection,
    ZammadSinkSection,
)


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


__all__ = [
    "EmailSink",
    "JsonlSink",
    "WebhookSink",
    "ZammadSink",
    "build_sink",
    "build_sinks",
]
