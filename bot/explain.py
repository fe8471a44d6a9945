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
}
"""WhatsApp error codes an agent can act on, each with its own explanation."""


def failure(code: int | None, title: str | None, texts: Texts) -> str:
    """What a failed delivery means, for the thread. An unknown error's title is quoted, with
    numbers masked: the provider words it, and may quote the recipient."""
    if code in _BY_CODE:
        return _BY_CODE[code](texts)
    detail = texts.failure_code.format(code=code) if code is not None else texts.failure_refused
    quoted = texts.failure_title.format(title=mask_log_text(title)) if title else ""
    return detail + quoted + "."
