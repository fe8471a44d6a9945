"""Keep phone numbers out of logs.

Logs are shipped, kept and read by people who must never see customer numbers (privacy.md,
checklist item 18). Code is meant to log pseudonyms only; this filter is the safety net for the
call site that forgets, a library that logs a URL with a number in it, or an exception message.

WhatsApp message ids (``wamid.…``) embed the number in base64, so only their tail is kept.

It is deliberately blunt: any run of seven or more digits, possibly split by spaces, line
breaks, dashes, dots, slashes, parentheses, underscores, invisible characters (zero-width, soft
hyphen, keycap marks) or a URL-encoded space, and with an optional leading '+', is replaced.
Digits of any script count (full-width, Arabic-Indic …, circled, superscript), so the match runs
on the original text and masks it as it stands. Large integers and long floats in logs are
collateral damage; ISO dates and times (``2024-03-12 14:30:05``) are kept because they are what
logs are read by.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

REDACTED: Final = "[redacted-number]"
MIN_DIGITS: Final = 7

# Spaces of every width, line breaks, dashes, dots, '_', invisible format characters, keycap
# marks, '%20'.
_SEP = (
    r"(?:[ \t\r\n\u00a0\u1680\u2000-\u200f\u202f\u205f-\u2064\u3000\ufeff\u00ad_\-./()"
    r"\u00b7\u2027\u2219\u2043\u2010-\u2015\u2212\ufe0f\u20e3\uff0d]|%20)"
)
# Decimal digits of any script (\d), and the superscript, subscript and circled ones.
_DIGIT = (
    r"[\d\u00b2\u00b3\u00b9\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u24ea"
    r"\u24f5-\u24fd\u24ff\u2776-\u277e\u2780-\u2788\u278a-\u2792]"
)
_ISO_TIME = r"[T ][0-2]\d:[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?"
_HEX = "[0-9a-fA-F]"
_LOG_NUMBER = re.compile(
    # Kept tokens come first so the alternation claims them before the number branch can.
    # ISO timestamps and UUIDs: what logs are read by, and never a phone number.
    rf"(?P<iso>(?<!\d)(?:19|20)\d{{2}}-[01]\d-[0-3]\d(?:{_ISO_TIME})?(?!\d))"
    rf"|(?P<uuid>\b{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\b)"
    # WhatsApp message ids carry the customer's number in base64 near their start; the tail is
    # message specific, so it is kept as a handle for debugging.
    r"|(?P<wamid>wamid\.[A-Za-z0-9+/=_-]{12,}?(?P<wamid_tail>[A-Za-z0-9+/=_-]{12})(?![A-Za-z0-9+/=_-]))"
    rf"|(?P<number>[+\uff0b]?{_DIGIT}(?:{_SEP}{{0,3}}{_DIGIT}){{{MIN_DIGITS - 1},}})"
)

# Attributes every LogRecord has; anything else came in through ``extra=`` and is masked too.
_STANDARD_ATTRS: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


def _replace(match: re.Match[str]) -> str:
    if match.group("number") is not None:
        return REDACTED
    if match.group("wamid") is not None:
        return "wamid.…" + match.group("wamid_tail")
    return match.group()


def mask_log_text(text: str) -> str:
    """Replace every digit run that could be a phone number."""
    return _LOG_NUMBER.sub(_replace, text)


def _render_message(record: logging.LogRecord) -> str:
    """``msg % args`` like the formatter would, but never failing on a bad format string."""
    try:
        return record.getMessage()
    except Exception:  # a broken call site must not lose the log line, nor leak its args
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        return " ".join([str(record.msg), *(repr(a) for a in args)])


class PhoneNumberLogFilter(logging.Filter):
    """Renders each record once and masks numbers in message, exception, stack and extras.

    The rendered text replaces ``msg`` and ``args`` becomes empty, so formatters further down
    see only masked text. The exception is formatted here and ``exc_info`` dropped: otherwise a
    formatter would render the traceback again from the original exception, unmasked.
    Idempotent, so attaching it to several handlers is harmless. Never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_log_text(_render_message(record))
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = mask_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_log_text(record.stack_info)
        extras: dict[str, Any] = record.__dict__
        for name, value in list(extras.items()):
            if name not in _STANDARD_ATTRS and isinstance(value, str):
                extras[name] = mask_log_text(value)
        return True


def attach_to_handler(handler: logging.Handler) -> PhoneNumberLogFilter:
    """Attach the filter unless the handler already has one; returns the filter in place."""
    for existing in handler.filters:
        if isinstance(existing, PhoneNumberLogFilter):
            return existing
    log_filter = PhoneNumberLogFilter()
    handler.addFilter(log_filter)
    return log_filter


def install_log_filter(logger: logging.Logger | None = None) -> int:
    """Attach the filter to every handler of ``logger`` (default: root); returns how many.

    Handler filters, not logger filters: a filter on the root logger does not see records that
    propagate up from child loggers, a handler filter sees everything it emits. Call this after
    logging is configured; handlers added later need :func:`attach_to_handler`.
    """
    target = logger if logger is not None else logging.getLogger()
    for handler in target.handlers:
        attach_to_handler(handler)
    return len(target.handlers)
