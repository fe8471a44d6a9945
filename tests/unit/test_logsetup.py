"""Log output formats: JSON lines parse one record each and carry no phone number."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from bot.config import LoggingSection
from bot.logfilter import REDACTED
from bot.logsetup import log_handler

NUMBER = "+49 151 12345678"
DIGITS = re.compile(r"\d{7,}")


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("empfang.test.logsetup")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = log_handler("json", stream)
    logger.addHandler(handler)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def _entries(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_without_the_number(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_log
    logger.info("message from %s arrived", NUMBER)
    try:
        raise ValueError(f"bad recipient {NUMBER}\nsecond line")
    except ValueError:
        logger.exception("send to %s failed", NUMBER)
    first, second = _entries(stream)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "INFO" and first["logger"] == "empfang.test.logsetup"
    assert first["message"] == f"message from {REDACTED} arrived"
    assert second["level"] == "ERROR"
    assert "ValueError: bad recipient" in second["exception"]
    assert "Traceback" in second["exception"]
    for text in (first["message"], second["message"], second["exception"]):
        assert not DIGITS.search(text.replace(" ", "")), text
    assert NUMBER not in stream.getvalue()


def test_time_is_utc_iso_8601(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    logger.warning("tick")
    (entry,) = _entries(stream)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])


def test_text_format_masks_too() -> None:
    stream = io.StringIO()
    handler = log_handler("text", stream)
    record = logging.LogRecord("empfang", logging.INFO, __file__, 1, "from %s", (NUMBER,), None)
    handler.handle(record)
    assert stream.getvalue().endswith(f"INFO empfang: from {REDACTED}\n")


def test_logging_format_is_checked() -> None:
    assert LoggingSection(format="json").format == "json"
    with pytest.raises(ValueError, match="format"):
        LoggingSection(format="xml")  # type: ignore[arg-type]
