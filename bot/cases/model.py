"""What a case system receives, and the ``CaseSink`` port the adapters implement.

A :class:`Transfer` is built from the store by the job that delivers it (not when the event
happens), already reduced to what the sink may receive: the requester is the pseudonym, the
number only if the sink has ``include_phone``, and numbers inside texts are masked otherwise.
Sinks therefore never see a contact row and cannot leak more than they were given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from bot.config.cases import CaseSinkSection
from bot.domain import Frozen

TransferEvent = Literal["opened", "message_in", "message_out", "closed", "transcript", "erased"]
"""``transcript`` is the one transfer of a sink configured with ``transfer = "transcript"``;
``erased`` asks the case system to erase its copy (``empfang privacy erase``)."""


def utc_iso(timestamp: float) -> str:
    """Times on the wire and in the ledger: ISO 8601, UTC, milliseconds, one fixed format
    (the ledger hashes the string, so it must not depend on the local zone)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TransferMessage(Frozen):
    """One message as the case system gets it. ``author`` is the agent for outbound ones."""

    message_id: int
    direction: Literal["in", "out"]
    at: float
    kind: str
    text: str
    author: str | None = None


class TransferFile(Frozen):
    """A customer's file for a sink with ``include_media``: fetched again from WhatsApp,
    checked and stripped like for the thread, in the private spool for one delivery only."""

    message_id: int
    name: str
    """Masked like in the thread."""
    mime_type: str
    size: int
    path: Path

    def read(self) -> bytes:
        return self.path.read_bytes()


class Transfer(Frozen):
    """One delivery to one sink. ``transfer_id`` is stable across retries (idempotency key)."""

    transfer_id: str
    event: TransferEvent
    conversation_id: int
    requester: str
    phone: str | None = None
    opened_at: float
    closed_at: float | None = None
    occurred_at: float
    messages: tuple[TransferMessage, ...] = ()
    categories: tuple[str, ...]
    files: tuple[TransferFile, ...] = ()
    """Only for a sink with ``include_media``; ``categories`` then say ``media``."""

    @property
    def closes(self) -> bool:
        """After this transfer the case is closed (the conversation was)."""
        return self.event in ("closed", "transcript")


class CaseRef(Frozen):
    """Where a conversation lives in one case system.

    ``case_id`` is the external id (Zammad ticket id, an id the webhook receiver returned, or
    one an agent linked with ``!case <id>``); ``label`` is what humans call it (ticket number);
    ``thread`` holds the Message-IDs of the e-mails sent so far, oldest first.
    """

    case_id: str | None = None
    label: str | None = None
    thread: tuple[str, ...] = ()


class CaseSink(Protocol):
    """A case system. Raise ``bot.errors.CaseSinkError`` for every failure.

    ``open_case`` creates the case carrying the conversation's first transfer; ``append``
    adds a later transfer; ``close`` only marks the case closed (its last transfer was
    appended before). Each returns quickly or raises: the job worker retries.
    """

    @property
    def settings(self) -> CaseSinkSection: ...

    async def open_case(self, transfer: Transfer) -> CaseRef: ...

    async def append(self, ref: CaseRef, transfer: Transfer) -> CaseRef: ...

    async def close(self, ref: CaseRef) -> None: ...

    async def aclose(self) -> None: ...


def transfer_order_key(conversation_id: int, sink: str) -> str:
    """Transfers keep their order per conversation and sink, and nothing else waits on them:
    chat jobs use ``contact:<id>`` keys, so a sink that is down never blocks relaying."""
    return f"case:{sink}:{conversation_id}"
