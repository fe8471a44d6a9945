"""Jobs about one conversation talk to the chat in that conversation's room.

Most chat jobs name a conversation, or a message of one (``bot.job_catalog``), and many
modules run them (the relay, ``bot.mirror``, media, templates, reveal, on-call). Rather than
each of them looking up the room, ``bot.wiring`` binds those jobs through
:meth:`JobRooms.by_conversation` or :meth:`JobRooms.by_message`, which read where the
conversation's thread is (``bot.routing.Rooms``) and run the handler inside
:func:`bot.routing.chatting_in` that room, in one hand-off to the store's thread
(``Store.transact``). With one chat target there is nothing to choose, and the handlers are
bound as they are: a single-room setup pays no extra read. The customer-message relay, the
hottest job, reads its message anyway and asks :meth:`JobRooms.of_message` inside its own
first transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from bot.routing import ChatTarget, Rooms, chatting_at, inbound_number
from bot.store import Store, Tx
from bot.store.jobs import Job
from bot.store.messages import MessageRow


class _AboutMessage(Protocol):
    @property
    def message_id(self) -> int: ...


class _AboutConversation(Protocol):
    @property
    def conversation_id(self) -> int | None: ...


M = TypeVar("M", bound=_AboutMessage)
C = TypeVar("C", bound=_AboutConversation)


class JobRooms:
    """Binds job handlers to the room of the conversation their payload names."""

    def __init__(self, store: Store, rooms: Rooms, first_number: str) -> None:
        self._store = store
        self._rooms = rooms
        self._first_number = first_number

    def by_message(
        self, handler: Callable[[Job, M], Awaitable[None]]
    ) -> Callable[[Job, M], Awaitable[None]]:
        """For payloads naming a stored message (``message_id``)."""
        if self._rooms.single:
            return handler

        async def run(job: Job, payload: M) -> None:
            _, target = await self._store.transact(
                lambda tx: self.of_message(tx, payload.message_id)
            )
            with chatting_at(target):
                await handler(job, payload)

        return run

    def by_conversation(
        self, handler: Callable[[Job, C], Awaitable[None]]
    ) -> Callable[[Job, C], Awaitable[None]]:
        """For payloads naming a conversation (``conversation_id``, None for none)."""
        if self._rooms.single:
            return handler

        async def run(job: Job, payload: C) -> None:
            conversation = None
            if (conversation_id := payload.conversation_id) is not None:
                conversation = await self._store.transact(
                    lambda tx: tx.conversations.get(conversation_id)
                )
            with self._rooms.chatting_for(conversation):
                await handler(job, payload)

        return run

    async def of_message(
        self, tx: Tx, message_id: int
    ) -> tuple[MessageRow | None, ChatTarget | None]:
        """The message, and where its conversation is; for a customer message not yet in
        one, where the open conversation it is about to join is, else its number's room.
        None for a single room. A handler that reads the message anyway (``relay.inbound``)
        asks here in its own transaction, instead of being bound through :meth:`by_message`
        and reading it twice."""
        row = await tx.messages.get(message_id)
        if row is None or self._rooms.single:
            return row, None
        if row.conversation_id is not None:
            conversation = await tx.conversations.get(row.conversation_id)
            return row, (self._rooms.of(conversation) if conversation is not None else None)
        if row.direction != "in":
            return row, None
        number = inbound_number(row.body, self._first_number)
        found = await tx.conversations.open_for(row.contact_id, number)
        return row, (self._rooms.of(found) if found is not None else self._rooms.of_number(number))
