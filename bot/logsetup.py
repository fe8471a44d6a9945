"""Logging for the process: one format, and the phone-number filter on every handler."""

from __future__ import annotations

import logging

from bot.logfilter import install_log_filter


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Libraries log request URLs and bodies at DEBUG/INFO; keep them quiet unless asked.
    for noisy in ("httpx", "httpcore", "nio", "aiohttp.access", "slack_bolt", "slack_sdk"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    install_log_filter()
