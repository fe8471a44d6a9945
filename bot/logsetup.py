"""Logging for the process: one format, quiet libraries, the phone-number filter everywhere."""

from __future__ import annotations

import logging

from bot.logfilter import install_log_filter

# Libraries that log request URLs or payloads at INFO; URLs can carry ids or numbers.
NOISY_LIBRARIES = ("httpx", "httpcore", "nio", "aiohttp.access", "slack_bolt", "slack_sdk")


def quiet_libraries(level: str = "INFO") -> None:
    """Libraries log at WARNING or above whatever Empfang's own level is."""
    floor = max(logging.WARNING, logging.getLevelName(level))
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(floor)


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_libraries(level)
    install_log_filter()
