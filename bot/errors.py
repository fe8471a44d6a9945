"""One exception tree for the whole bot.

The job worker decides between retry, wait and dead-letter from these classes alone, so
adapters must translate every wire error into one of them and never let a library's own
exception escape::

    EmpfangError
    ├── ConfigError                 config file or environment unusable; nothing starts
    ├── StoreError
    │   └── SchemaTooNewError       database written by a newer Empfang
    ├── WebhookError                a request we refuse (maps to an HTTP status)
    │   ├── SignatureError          missing (401) or wrong (403) signature
    │   └── PayloadError            malformed or unknown shape (400)
    ├── MediaRefused                a file that is not relayed; the thread is told why
    │   ├── MediaTypeRefused        its type is not in ``[media] allowed_types``
    │   ├── MediaTooLarge           larger than its type's maximum
    │   └── ImageUndecodable        says it is an image, but no image can be read from it
    └── DeliveryError(retryable)    a send to someone else failed
        ├── ProviderError(code)     WhatsApp provider (Graph error codes)
        │   ├── RateLimited(retry_after)
        │   ├── TokenInvalid        190 / 0: needs an admin
        │   ├── WindowClosed        131047: only templates may be sent
        │   └── Undeliverable       131026: number cannot receive
        ├── PlatformError           Slack / Matrix
        ├── CaseSinkError           ticketing, e-mail, webhook sinks
        └── PagingError             the on-call paging webhook

Messages never contain phone numbers: callers pass pseudonyms or ids only.
"""

from __future__ import annotations


class EmpfangError(Exception):
    """Root of every error Empfang raises on purpose."""


class ConfigError(EmpfangError):
    """The configuration cannot be used; the message names the TOML key path."""


class StoreError(EmpfangError):
    """The store cannot be opened or used."""


class SchemaTooNewError(StoreError):
    """The database was migrated by a newer version; running old code on it would corrupt it."""


class WebhookError(EmpfangError):
    """An inbound request that is refused; ``status`` is the HTTP answer."""

    status = 400


class SignatureError(WebhookError):
    """Signature missing (401) or not matching (403): nothing is stored."""

    def __init__(self, message: str, *, missing: bool) -> None:
        super().__init__(message)
        self.missing = missing
        self.status = 401 if missing else 403


class PayloadError(WebhookError):
    """The body is not JSON or not the documented envelope."""

    status = 400


class MediaRefused(EmpfangError):
    """A file that is not relayed. It is not retried: the same bytes are refused again, so
    the conversation's thread gets a notice instead, saying what arrived and why.

    ``mime`` and ``size`` describe the file (size in bytes, None when unknown); the
    message says both in words and never names a person.
    """

    def __init__(self, message: str, *, mime: str, size: int | None) -> None:
        super().__init__(message)
        self.mime = mime
        self.size = size


class MediaTypeRefused(MediaRefused):
    """The type is not among ``[media] allowed_types`` (default: what WhatsApp accepts)."""


class MediaTooLarge(MediaRefused):
    """Larger than the maximum for its type; ``limit`` is that maximum in bytes."""

    def __init__(self, message: str, *, mime: str, size: int | None, limit: int) -> None:
        super().__init__(message, mime=mime, size=size)
        self.limit = limit


class ImageUndecodable(MediaRefused):
    """Declared as an image but unreadable (damaged, another format, a decompression bomb):
    it cannot be stripped of its metadata, so it is not shown."""


class DeliveryError(EmpfangError):
    """Sending somewhere failed. ``retryable`` tells the worker whether trying again can help.

    ``outage`` says the other side could not be reached at all (connection refused, timed
    out, 502/503/504): the job is not at fault, so the worker waits the outage out
    (``jobs.outage_patience``) instead of spending the job's attempts on it.
    """

    retryable: bool = True

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        retry_after: float | None = None,
        code: int | str | None = None,
        outage: bool = False,
    ) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable
        self.retry_after = retry_after
        self.code = code
        self.outage = outage


OUTAGE_STATUSES = frozenset({502, 503, 504})
"""HTTP answers of a gateway or server that is down or restarting, not of one that failed
the request itself (a 500 may be the request's fault and counts as an attempt)."""


class ProviderError(DeliveryError):
    """The WhatsApp provider refused or failed a call."""


class RateLimited(ProviderError):
    """Throughput or pair rate limit (130429, 131056, HTTP 429): wait, then retry."""

    retryable = True


class TokenInvalid(ProviderError):
    """Access token expired or invalid (190): retrying cannot help until an admin acts."""

    retryable = False


class WindowClosed(ProviderError):
    """131047: more than 24 hours since the customer's last message; free text is refused."""

    retryable = False


class Undeliverable(ProviderError):
    """131026: the recipient cannot receive WhatsApp messages."""

    retryable = False


class PlatformError(DeliveryError):
    """Slack or Matrix refused or failed a call."""


class CaseSinkError(DeliveryError):
    """A case system (ticketing, e-mail, webhook, file) refused or failed a transfer."""


class PagingError(DeliveryError):
    """The paging webhook (PagerDuty Events API v2 or compatible) refused or failed."""
