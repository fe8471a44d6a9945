"""Logs never carry phone numbers (privacy.md, checklist item 18; bot/logfilter.py)."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from bot.logfilter import (
    REDACTED,
    PhoneNumberLogFilter,
    attach_to_handler,
    install_log_filter,
    keep_own_address,
    mask_log_text,
)
from tests.masking import leaked_digits
from tests.numbers import CUSTOMER

NUMBER = "+49 151 12345678"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger with a filtered stream handler, detached from the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    attach_to_handler(handler)
    logger = logging.getLogger("empfang.test.logfilter")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def _no_long_digit_runs(text: str) -> bool:
    return re.search(r"\d(?:[\s\-./()+]{0,2}\d){6,}", text) is None


@pytest.mark.parametrize(
    "text",
    [
        "+49 151 12345678",
        "4915112345678",
        "0151/12345678",
        "0151-123 456 78",
        "(0151) 1234567",
        "+43 664 1234567",
        "079 123 45 67",
        "user_4915112345678",
        "0151.1234.5678",
        "0151–12345678",
        # issue 12: echoed in a refusal reason, these survived
        "0151_1234_5678",
        "0151\u200b1234\u200c5678",
        "0151\u200d1234\u2060567\ufeff8",
        # other notations that must not either
        "0151\u00ad12345678",
        "+49\u2009151\u202f12345678",
        "0151 _ 12345678",
        "０１５１１２３４５６７８",
        "＋４９ １５１ １２３４５６７８",
        "٠١٥١١٢٣٤٥٦٧٨",
        "0151%2012345678",
        "0151·1234·5678",
        "0151 1234\n5678",
        "⓪①⑤① ①②③④⑤⑥⑦⑧",
        "⁰¹⁵¹¹²³⁴⁵⁶⁷⁸",
        "0\ufe0f\u20e31\ufe0f\u20e35\ufe0f\u20e31\ufe0f\u20e312345678",
    ],
)
def test_numbers_are_masked(text: str) -> None:
    masked = mask_log_text(f"sending to {text} now")
    assert REDACTED in masked
    assert _no_long_digit_runs(masked)
    assert leaked_digits(masked, CUSTOMER) is None, masked


@pytest.mark.parametrize(
    "text",
    [
        "job 123456 retried 3 times",
        "2024-03-12 14:30:05,123 done",
        "at 2024-03-12T14:30:05.123Z",
        "conversation 550e8400-e29b-41d4-a716-446655440000",
        "status 200 in 12 ms",
    ],
)
def test_harmless_text_is_kept(text: str) -> None:
    assert mask_log_text(text) == text


def test_whatsapp_message_ids_lose_the_embedded_number() -> None:
    # base64 of b"\x1c\x18\x0b16505076520\x15…": the number sits right after the prefix.
    wamid = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    masked = mask_log_text(f"sent {wamid}")
    assert masked == "sent wamid.…Q0Q2RTY3RTcA"


def test_message_with_args_is_rendered_and_masked(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("%d chars inbound from %s", 42, NUMBER)
    assert stream.getvalue() == f"INFO 42 chars inbound from {REDACTED}\n"


def test_masking_errs_on_the_side_of_too_much() -> None:
    # Digits right after a number, separated by " (" or ", ", are taken to be part of it:
    # "0151, 1234, 5678" is a number to a reader.
    assert mask_log_text(f"{NUMBER} (42 chars)") == f"{REDACTED} chars)"
    assert mask_log_text(f"{NUMBER}, 42 chars") == f"{REDACTED} chars"


def test_record_is_rewritten_for_later_formatters() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", (NUMBER,), None)
    assert PhoneNumberLogFilter().filter(record) is True
    assert record.msg == f"to {REDACTED}"
    assert record.args == ()


def test_exception_text_is_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise ValueError(f"cannot send to {NUMBER}")
    except ValueError:
        logger.exception("send failed")
    output = stream.getvalue()
    assert "ValueError: cannot send to " + REDACTED in output
    assert "Traceback" in output
    assert _no_long_digit_runs(output)


def test_stack_info_and_extras_are_masked(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    handler = logger.handlers[0]
    handler.setFormatter(logging.Formatter("%(message)s to=%(to)s"))
    logger.warning("retry", extra={"to": "0151 12345678"}, stack_info=True)
    assert stream.getvalue().startswith(f"retry to={REDACTED}")


def test_broken_format_string_does_not_lose_or_leak(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("two args %s %s", NUMBER)
    output = stream.getvalue()
    assert "two args" in output
    assert REDACTED in output
    assert _no_long_digit_runs(output)


def test_filter_is_idempotent() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", (NUMBER,), None)
    log_filter = PhoneNumberLogFilter()
    log_filter.filter(record)
    log_filter.filter(record)
    assert record.getMessage() == f"to {REDACTED}"


def test_install_attaches_once_to_every_root_handler() -> None:
    root = logging.getLogger()
    streams = [io.StringIO(), io.StringIO()]
    handlers = [logging.StreamHandler(s) for s in streams]
    old_level = root.level
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        assert install_log_filter() >= 2
        install_log_filter()
        for handler in handlers:
            assert sum(isinstance(f, PhoneNumberLogFilter) for f in handler.filters) == 1
        # A child logger propagates to the root handlers; the handler filter still applies.
        logging.getLogger("empfang.test.child").info("from %s", NUMBER)
        for stream in streams:
            assert stream.getvalue() == f"from {REDACTED}\n"
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(old_level)


def test_install_on_a_named_logger() -> None:
    logger = logging.getLogger("empfang.test.named")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    try:
        assert install_log_filter(logger) == 1
        assert any(isinstance(f, PhoneNumberLogFilter) for f in handler.filters)
    finally:
        logger.removeHandler(handler)


def test_the_bots_own_address_is_shown_and_nothing_else_with_it() -> None:
    """An IPv4 address with its port reads as a run of digits: the start-up line said
    'listening on http://[redacted-number]'. The address the bot listens on comes from its
    configuration, not from a customer; a number next to it is still masked."""
    own = "http://127.0.0.1:18799"
    keep_own_address(own)
    assert mask_log_text(f"listening on {own} (webhook paths /x)") == (
        f"listening on {own} (webhook paths /x)"
    )
    assert "[redacted-number]" in mask_log_text("listening on http://127.0.0.1:18800")
    glued = mask_log_text(f"{own}{CUSTOMER}")
    assert leaked_digits(glued, CUSTOMER) is None and CUSTOMER[-7:] not in glued
    assert CUSTOMER not in mask_log_text(f"from {CUSTOMER} at {own}")
