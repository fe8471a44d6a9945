"""Case-system sinks (webhook, Zammad, e-mail, JSONL) and the factory that builds them.

Each sink's module is imported when a ``[[cases]]`` table asks for it, not with this package:
most installations configure none or one, and an idle bot should not carry an SMTP client
and two HTTP clients it never uses (``tests/unit/test_idle_imports.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

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
        from adapters.cases.webhook import WebhookSink

        return WebhookSink(settings)
    if isinstance(settings, ZammadSinkSection):
        from adapters.cases.zammad import ZammadSink

        return ZammadSink(settings, texts=texts)
    if isinstance(settings, EmailSinkSection):
        from adapters.cases.email import EmailSink

        return EmailSink(settings, texts=texts)
    assert isinstance(settings, JsonlSinkSection)
    from adapters.cases.jsonl import JsonlSink

    return JsonlSink(settings)


def build_sinks(settings: Sequence[CaseSinkSettings], texts: Texts) -> list[CaseSink]:
    return [build_sink(entry, texts) for entry in settings]


__all__ = ["build_sink", "build_sinks"]
