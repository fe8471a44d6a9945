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
from bot.texts import Texts


def build_sink(settings: CaseSinkSettings, texts: Texts) -> CaseSink:
    """The sink for one ``[[cases]]`` table; ``texts`` words the notes and mails people read
    (the JSON documents of webhook and JSONL are language-neutral)."""
    if isinstance(settings, WebhookSinkSection):
        return WebhookSink(settings)
    if isinstance(settings, ZammadSinkSection):
        return ZammadSink(settings, texts=texts)
    if isinstance(settings, EmailSinkSection):
        return EmailSink(settings, texts=texts)
    assert isinstance(settings, JsonlSinkSection)
    return JsonlSink(settings)


def build_sinks(settings: Sequence[CaseSinkSettings], texts: Texts) -> list[CaseSink]:
    return [build_sink(entry, texts) for entry in settings]


__all__ = [
    "EmailSink",
    "JsonlSink",
    "WebhookSink",
    "ZammadSink",
    "build_sink",
    "build_sinks",
]
