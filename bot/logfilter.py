"""Keep phone numbers out of logs.

Logs are shipped, kept and read by people who must never see customer numbers (privacy.md,
checklist item 18). Code is meant to log pseudonyms only; this filter is the safety net for the
call site that forgets, a library that logs a URL with a number in it, or an exception message.

WhatsApp message ids (``wamid.…``) embed the number in base64, so only their tail is kept.

It is deliberately blunt: any run of seven or more digits, with an optional leading '+', is
replaced, whatever stands between its digits as long as a reader could take it for a separator:
any whitespace, up to three punctuation or symbol characters ('-', '.', '/', '_', '*', ',', ':',
dashes and minus signs of any script, emoji …), invisible characters (zero-width, soft hyphen,
keycap marks, Hangul fillers), URL-escaped ones. Digits of any script count (full-width,
Arabic-Indic …), and so does every other character with a digit value (circled,
parenthesised, superscript …). Which characters are which is :mod:`bot.number_reading`'s
rule, the one the chat's masker reads text by; the match runs on that view and masks the text
as it stands. Large integers, long floats and lists of numbers in
logs are collateral damage; ISO dates and times (``2024-03-12 14:30:05``) are kept because they
are what logs are read by.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from bot.number_reading import MARK, REWRITTEN, View, gap, plain, rewrite

REDACTED: Final = "[redacted-number]"
MIN_DIGITS: Final = 7

# Between two digits (bot.number_reading): whitespace and up to three marks, '_' among them.
_GAP = gap(rf"(?:{MARK}|_)")
# Invisible characters dropped, digits of any script and odd separators as ASCII.
_REWRITTEN = re.compile(REWRITTEN)
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
    rf"|(?P<number>\+?\d(?:{_GAP}\d){{{MIN_DIGITS - 1},}})"
)

# Attributes every LogRecord has; anything else came in through ``extra=`` and is masked too.
_STANDARD_ATTRS: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)


_OWN_ADDRESSES: set[str] = set()
"""What the bot itself listens on (:func:`keep_own_address`)."""


def keep_own_address(address: str) -> None:
    """Show ``address`` (``http://127.0.0.1:8080``) in full wherever a log line has it.

    An IPv4 address with its port reads as a run of digits, and the start-up line said
    ``listening on http://[redacted-number]``. The bot's own addresses come from its
    configuration, never from a customer; a digit run that goes on beyond one is masked.
    """
    _OWN_ADDRESSES.add(address)


def _own_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for address in _OWN_ADDRESSES:
        start = text.find(address)
        while start != -1:
            spans.append((start, start + len(address)))
            start = text.find(address, start + 1)
    return spans


def _replacement(match: re.Match[str]) -> str | None:
    if match.group("number") is not None:
        return REDACTED
    if match.group("wamid") is not None:
        return "wamid.…" + match.group("wamid_tail")
    return None


def mask_log_text(text: str) -> str:
    """Replace every digit run that could be a phone number.

    The runs are found in the reader's view of the text (:func:`bot.number_reading.rewrite`),
    the same one the chat's masker reads, and replaced in the text as it stands.
    """
    view = rewrite(text, _REWRITTEN, plain) if not text.isascii() or "%" in text else View(text)
    out: list[str] = []
    pos = 0
    own = _own_spans(view.text) if _OWN_ADDRESSES else []
    for match in _LOG_NUMBER.finditer(view.text):
        replacement = _replacement(match)
        if replacement is None:
            continue
        if any(start <= match.start() and match.end() <= end for start, end in own):
            continue
        start, end = view.original(*match.span())
        out += [text[pos:start], replacement]
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


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
