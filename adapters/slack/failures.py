"""What an exception while handling a verified Slack request is answered with, and how it
is logged: never bolt's 500, never a traceback per request, never what the request held.

* The store or Slack unreachable (:data:`UNAVAILABLE`): 503, so Slack delivers the event
  again later (an event is acknowledged only once stored).
* Anything else reached code that could not handle this request (a shape the schema in
  :mod:`adapters.slack.inbound` should have refused): 400 with ``X-Slack-No-Retry``, since
  the same body fails the same way.
* A request no listener wants (another event type, another button): 200, not bolt's 404,
  which Slack would deliver three more times.

Each kind (exception type and the line it came from) is logged once with its stack, as
file, line and code only: the exception's message can quote the request. Later ones of
the kind are a line with a count.
"""

from __future__ import annotations

import logging
import sqlite3
import traceback
from collections import Counter

from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse

from bot.errors import DeliveryError, PayloadError, StoreError

log = logging.getLogger("empfang.slack")

NO_RETRY = {"X-Slack-No-Retry": "1"}
UNAVAILABLE: tuple[type[BaseException], ...] = (
    StoreError,
    DeliveryError,  # PlatformError: Slack itself failed
    sqlite3.Error,
    OSError,
    TimeoutError,
)
_UNAVAILABLE_MODULES = frozenset({"asyncpg"})
"""PostgreSQL's driver, by module name: importing it here would cost a Slack bot on SQLite
its memory."""


def status_for(error: BaseException) -> int:
    """The answer to a request whose handling raised ``error``."""
    if isinstance(error, BoltUnhandledRequestError):
        return 200
    if isinstance(error, UnicodeError | PayloadError):
        return 400
    if isinstance(error, (*UNAVAILABLE, ValueError)):  # ValueError: SQLite's closed connection
        return 503
    if type(error).__module__.split(".")[0] in _UNAVAILABLE_MODULES:
        return 503
    return 400


class Failures:
    """Counts failures per kind; logs a kind's stack the first time only."""

    def __init__(self) -> None:
        self._seen: Counter[tuple[str, str]] = Counter()

    def note(self, error: BaseException, status: int) -> None:
        """Log ``error``, answered with ``status`` (see the module docstring)."""
        frames = traceback.extract_tb(error.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        kind = (type(error).__name__, where)
        self._seen[kind] += 1
        count = self._seen[kind]
        if status == 200:
            if count == 1:
                log.info("slack: requests no listener handles are answered 200 and ignored")
        elif count == 1:
            log.error(
                "slack: %s at %s while handling a request; answered %d (later ones of this "
                "kind are counted without the stack)\n%s",
                kind[0],
                where,
                status,
                "".join(traceback.format_list(frames)).rstrip(),
            )
        else:
            log.warning("slack: %s at %s again (%d so far); answered %d", *kind, count, status)

    def response(self, error: BaseException) -> BoltResponse:
        """bolt's global error handler (``AsyncApp.error``): the answer instead of 500."""
        status = status_for(error)
        self.note(error, status)
        headers = NO_RETRY if status == 400 else {}
        text = {200: "", 400: "request not processed", 503: "temporarily unavailable"}[status]
        return BoltResponse(status=status, body=text, headers=dict(headers))
