"""Logging for the process: text or JSON lines, quiet libraries, the number filter everywhere."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Literal

from bot.logfilter import attach_to_handler, install_log_filter

LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Libraries that log request URLs or payloads at INFO; URLs can carry ids or numbers.
NOISY_LIBRARIES = ("httpx", "httpcore", "nio", "aiohttp.access", "slack_bolt", "slack_sdk")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record and line, so a traceback never splits into many entries.

    It formats what the handler's :class:`~bot.logfilter.PhoneNumberLogFilter` left in the
    record: the message is already rendered and masked, the traceback already masked text.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def log_handler(log_format: LogFormat, stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler (default stderr) in ``log_format`` that masks numbers before formatting."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLineFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    attach_to_handler(handler)
    return handler


def quiet_libraries(level: str = "INFO") -> None:
    """Libraries log at WARNING or above whatever Empfang's own level is."""
    floor = max(logging.WARNING, logging.getLevelName(level))
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(floor)


def configure_logging(level: str = "INFO", log_format: LogFormat = "text") -> None:
    logging.basicConfig(level=level, handlers=[log_handler(log_format)])
    quiet_libraries(level)
    install_log_filter()
