"""Which business number a send leaves from: the number the customer wrote to.

A customer who writes to two of the business's numbers has two conversations
(``conversations.number_id``); whatever answers one of them (a reply, a template, a file,
buttons, a reaction, the read mark) must leave from that conversation's number, or the
customer gets the answer in the other chat. The senders are many (``bot.mirror``,
``bot.templates``, ``bot.media.outbound``) and all take only the recipient, so the relay
scopes each send with :func:`sending_from` and the provider asks :func:`sender` for the
number to send from: the one place a sender number is picked. A context variable, not an
attribute, because workers run jobs of several conversations concurrently.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from bot.config.numbers import Number
from bot.domain import InboundMessage
from bot.errors import ProviderError
from bot.foreign_numbers import shown

_SENDING_FROM: ContextVar[str] = ContextVar("empfang_sending_from", default="")


class NumberNotConfigured(ProviderError):
    """The conversation's business number is no longer configured: nothing is sent from
    another number instead (the customer would get the answer in the wrong chat)."""

    retryable = False


@contextmanager
def sending_from(number_id: str) -> Iterator[None]:
    """Sends inside this block leave from ``number_id`` ("" leaves it to the provider's
    first number, as before numbers were recorded)."""
    token = _SENDING_FROM.set(number_id)
    try:
        yield
    finally:
        _SENDING_FROM.reset(token)


def sender(default: str, ours: Collection[str]) -> str:
    """The number to send from: the scoped one, else ``default``; refused unless ours."""
    number = _SENDING_FROM.get() or default
    if number not in ours:
        raise NumberNotConfigured(
            f"business number {shown(number)} is no longer configured here; "
            "add it to [[numbers]] again to answer this conversation"
        )
    return number


def number_names(numbers: Sequence[Number]) -> dict[str, str]:
    """What thread roots call each number (its ``name``, else the last digits of its id);
    nothing with a single number, whose threads need not say where they were written to."""
    if len(numbers) < 2:
        return {}
    return {number.number_id: number.name or shown(number.number_id) for number in numbers}


def inbound_number(body: str | None, default: str) -> str:
    """The business number a stored inbound body was written to, ``default`` for one stored
    before numbers were recorded (it belongs to the first configured number)."""
    if body is None:
        return default
    return InboundMessage.model_validate_json(body).number_id or default
