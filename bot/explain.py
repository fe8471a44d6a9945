"""Plain-words explanations of failed sends, posted in the thread for the agent."""

from __future__ import annotations

from collections.abc import Callable

from bot.logfilter import mask_log_text
from bot.texts import Texts

_BY_CODE: dict[int, Callable[[Texts], str]] = {
    131047: lambda texts: texts.failure_window_closed,
    131026: lambda texts: texts.failure_not_on_whatsapp,
    190: lambda texts: texts.failure_token,
    130429: lambda texts: texts.failure_rate_limit,
    131056: lambda texts: texts.failure_pair_rate,
    131050: lambda texts: texts.failure_marketing_opt_out,
    132000: lambda texts: texts.failure_template_parameters,
    132001: lambda texts: texts.failure_template_missing,
    132012: lambda texts: texts.failure_template_format,
    132018: lambda texts: texts.failure_template_format,
    132015: lambda texts: texts.failure_template_paused,
    132016: lambda texts: texts.failure_template_disabled,
    # Twilio's codes (``adapters.twilio.errors``): its own number range, no overlap with Meta's.
    63016: lambda texts: texts.failure_twilio_window_closed,
    63003: lambda texts: texts.failure_not_on_whatsapp,
    63024: lambda texts: texts.failure_not_on_whatsapp,
    21211: lambda texts: texts.failure_not_on_whatsapp,
    21614: lambda texts: texts.failure_not_on_whatsapp,
    20003: lambda texts: texts.failure_twilio_auth,
    63018: lambda texts: texts.failure_rate_limit,
    20429: lambda texts: texts.failure_rate_limit,
}
"""WhatsApp error codes an agent can act on, each with its own explanation."""
MEDIA_UPLOAD_ERROR = 131053
"""A file WhatsApp does not take (or Empfang refused by WhatsApp's table): the title says
which file and why (``bot.media.outbound.refusal``)."""


def failure(code: int | None, title: str | None, texts: Texts) -> str:
    """What a failed delivery means, for the thread. An unknown error's title is quoted, with
    numbers masked: the provider words it, and may quote the recipient."""
    if code in _BY_CODE:
        return _BY_CODE[code](texts)
    if code == MEDIA_UPLOAD_ERROR and title:
        return texts.failure_file.format(reason=mask_log_text(title))
    detail = texts.failure_code.format(code=code) if code is not None else texts.failure_refused
    quoted = texts.failure_title.format(title=mask_log_text(title)) if title else ""
    return detail + quoted + "."
