"""Which business number a send leaves from (the number the customer wrote to), and which
chat room a conversation's platform calls go to (the room its thread is in).

A customer who writes to two of the business's numbers has two conversations
(``conversations.number_id``); whatever answers one of them (a reply, a template, a file,
buttons, a reaction, the read mark) must leave from that conversation's number, or the
customer gets the answer in the other chat. The senders are many (``bot.mirror``,
``bot.templates``, ``bot.media.outbound``) and all take only the recipient, so the relay
scopes each send with :func:`sending_from` and the provider asks :func:`sender` for the
number to send from: the one place a sender number is picked. A context variable, not an
attribute, because workers run jobs of several conversations concurrently.

The chat room works the same way. Each number's conversations have their threads in the
number's room or channel (``[[numbers]] platform, room``), and a thread stays in the room it
was opened in (``conversations.chat_platform, chat_room``) when the configuration later
moves its number. Jobs about a conversation run inside :func:`chatting_in` its room
(``bot.job_rooms``; :meth:`Rooms.of` says where), and the code that finds a conversation
otherwise (the relay opening a thread or judging an agent's event, on-call's alerts room,
the retention purge and removal jobs, which name their room) scopes itself. An adapter
asks :func:`chat_room` for the room it addresses (its own global room outside any scope),
and ``bot.chat_targets`` asks :func:`chat_platform` which platform a call is for. So the
``ChatPlatform`` methods keep their signatures, and a job of one conversation never posts
into another's room. Room strings are the configured ones (an alias stays an alias);
adapters map them to what they resolved. Agent events name the room they were written in
(``AgentMessage.room_id`` …) the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from bot.config.numbers import Number
from bot.domain import InboundMessage
from bot.errors import ProviderError
from bot.foreign_numbers import shown
from bot.store.conversations import ConversationRow

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


@dataclass(frozen=True)
class ChatTarget:
    """A room (Matrix room id or alias) or channel (Slack channel id) of one platform."""

    platform: str
    room: str


GLOBAL_ROOM = ChatTarget("", "")
"""No room named: each adapter's global room, on ``[chat] platform``."""

_CHATTING_IN: ContextVar[ChatTarget | None] = ContextVar("empfang_chatting_in", default=None)


@contextmanager
def chatting_in(room: str, *, platform: str = "") -> Iterator[None]:
    """Platform calls inside this block address ``room`` (of ``platform``; "" is the
    ``[chat] platform``). ``room`` "" leaves it to the adapter's global room."""
    token = _CHATTING_IN.set(ChatTarget(platform, room))
    try:
        yield
    finally:
        _CHATTING_IN.reset(token)


def chat_room(default: str) -> str:
    """The room a platform call addresses: the scoped one, else ``default`` (the
    adapter's global room)."""
    target = _CHATTING_IN.get()
    return target.room if target is not None and target.room else default


def chat_platform(default: str) -> str:
    """The platform a call is for: the scoped one, else ``default``."""
    target = _CHATTING_IN.get()
    return target.platform if target is not None and target.platform else default


@contextmanager
def chatting_at(target: ChatTarget | None) -> Iterator[None]:
    """:func:`chatting_in` ``target``; nothing scoped for None."""
    if target is None:
        yield
        return
    with chatting_in(target.room, platform=target.platform):
        yield


class Rooms:
    """Where each conversation's thread is: the room it was opened in, else (a new thread)
    its number's target, else the global room of ``[chat] platform``."""

    def __init__(self, numbers: Sequence[Number], default: ChatTarget) -> None:
        self.default = default
        self._by_number = {n.number_id: ChatTarget(n.platform, n.room) for n in numbers}
        self._alerts = {
            n.number_id: ChatTarget(n.platform, n.alerts_room) for n in numbers if n.alerts_room
        }
        self._targets = {default, *self._by_number.values()}

    @property
    def single(self) -> bool:
        """Every thread is in the one global room: nothing to choose."""
        return self._targets == {self.default}

    def of(self, conversation: ConversationRow) -> ChatTarget:
        if conversation.thread_id is not None:
            return ChatTarget(
                conversation.chat_platform or self.default.platform,
                conversation.chat_room or self.default.room,
            )
        return self.of_number(conversation.number_id)

    def of_number(self, number_id: str) -> ChatTarget:
        """Where a new thread of this number's conversations goes."""
        return self._by_number.get(number_id, self.default)

    def alerts_of(self, conversation: ConversationRow) -> ChatTarget | None:
        """The room an alert about the conversation goes to besides its thread: its number's
        ``alerts_room``, else None (the adapter's global alerts room)."""
        return self._alerts.get(conversation.number_id)

    def platform_of(self, room: str) -> str:
        """The platform ``room`` is on ("" or a room of no number: ``[chat] platform``)."""
        found = (target.platform for target in self._targets if room and target.room == room)
        return next(found, self.default.platform)

    def holds(self, conversation: ConversationRow, room: str) -> bool:
        """Whether the conversation's thread is in ``room`` ("": the event did not say)."""
        return self.single or not room or self.of(conversation).room == room

    def chatting_for(self, conversation: ConversationRow | None) -> AbstractContextManager[None]:
        """:func:`chatting_in` the conversation's room (nothing scoped without one)."""
        return chatting_at(self.of(conversation) if conversation is not None else None)
