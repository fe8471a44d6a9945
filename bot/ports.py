"""The interfaces adapters implement. The core talks only to these.

Chat platforms receive already rendered, masked text (``bot.render`` is the one place that
turns domain messages into chat text) and report what agents do as ``AgentEvent``s; the
relay decides what those events mean.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from pydantic import Field, model_validator

from bot.domain import DeliveryStatus, Frozen, OutboundText, WebhookBatch
from bot.ids import ChatMessageId, ProviderMessageId, StatusRef, ThreadId, WaId

if TYPE_CHECKING:
    from bot.store import Tx


class WhatsAppProvider(Protocol):
    def verify_challenge(self, mode: str | None, token: str | None) -> bool: ...

    def parse(self, body: bytes, signature_header: str | None) -> WebhookBatch: ...

    async def send_text(self, to: WaId, message: OutboundText) -> ProviderMessageId: ...

    async def mark_read(self, provider_message_id: ProviderMessageId) -> None: ...

    async def aclose(self) -> None: ...


class ThreadRoot(Frozen):
    """The first post of a conversation's thread (rendered, masked).

    ``title`` is the headline (pseudonym and masked number), ``lines`` the details below it;
    ``conversation_id`` lets platforms attach buttons (Slack: Claim, Close).
    """

    conversation_id: int
    title: str
    lines: tuple[str, ...] = ()
    state: str = "open"
    claimed_by: str | None = None


class AgentMessage(Frozen):
    """Something a person (or bot) wrote in the chat, normalised by the adapter.

    ``thread_id`` is the thread root's id, None for messages outside any thread.
    ``edit_of`` is the chat id of the message this one edits, for edits.
    """

    chat_id: ChatMessageId
    thread_id: ThreadId | None
    author_id: str
    author_name: str
    text: str
    author_is_bot: bool = False
    author_is_self: bool = False
    author_is_member: bool = True
    edit_of: ChatMessageId | None = None


class AgentAction(Frozen):
    """A button press on a thread root (Slack ``claim``/``close``).

    ``author_is_member`` is reported by the adapter as for messages: in a public channel a
    workspace user who never joined can press buttons.
    """

    action: str
    thread_id: ThreadId
    author_id: str
    author_name: str
    author_is_member: bool = True


AgentEvent = AgentMessage | AgentAction
AgentEventHandler = Callable[[AgentEvent], Awaitable[str | None]]
"""The relay's entry for agent events. A returned text is meant for the event's author
alone (a refused button press on a platform with ``Capabilities.ephemeral``)."""


class Capabilities(Frozen):
    """What a chat platform offers beyond posting, declared by the platform itself.

    The core reads these facts instead of probing for methods or attributes, so a wrapper
    around a platform (``bot.alerts.monitor.MonitoredChat``) passes them on explicitly and
    nothing depends on how ``isinstance`` treats protocols in a given Python version.
    """

    paced: bool = False
    """Posts wait for a per-channel slot; :meth:`ChatPlatform.ready_to_post` waits for it."""
    combine_waiting: int = Field(default=1, ge=1)
    """Most queued customer messages one post may carry (1: one post per message). Only a
    paced platform combines: elsewhere nothing queues up behind a post."""
    reactions: bool = False
    """Delivery states are shown as reactions on the agent's message (``set_status``)."""
    ephemeral: bool = False
    """A text can be shown to one person only (the answer to a refused button press, a
    revealed number): :meth:`ChatPlatform.show_privately` leaves nothing to withdraw."""
    direct_rooms: bool = False
    """:meth:`ChatPlatform.show_privately` posts into a new room with only that person, and
    the post stays until :meth:`ChatPlatform.withdraw` removes it."""
    redaction: bool = False
    """:meth:`ChatPlatform.remove_thread` and :meth:`ChatPlatform.remove_posts` remove the
    bot's own posts (the retention purge and erasure reach the chat); without it the chat
    stays as it is."""
    redacts_others: bool = False
    """Removing posts removes agents' replies too (Matrix: the bot holds
    the room's ``redact`` power level). Slack bots can delete only their own messages."""

    @model_validator(mode="after")
    def _combining_needs_pacing(self) -> Capabilities:
        if self.combine_waiting > 1 and not self.paced:
            raise ValueError("combine_waiting > 1 needs a paced platform")
        return self


class Removal(Frozen):
    """What :meth:`ChatPlatform.remove_thread` did: posts removed, and posts it had to leave
    (others' posts the bot has no right to remove)."""

    removed: int = 0
    kept: int = 0


class PostRef(Frozen):
    """One post :meth:`ChatPlatform.remove_posts` is to remove, as the store knows it."""

    chat_id: ChatMessageId
    by_bot: bool
    """The bot posted it (a customer's line); else an agent did (their reply)."""
    status: StatusRef | None = None
    """The delivery mark :meth:`ChatPlatform.set_status` put on it, which goes with it even
    where the post itself has to stay."""


class PrivateRef(Frozen):
    """Where :meth:`ChatPlatform.show_privately` put a text that must be withdrawn later."""

    room_id: str
    event_id: str


class ChatPlatform(Protocol):
    """Slack or Matrix. ``key`` arguments are idempotency keys derived from stable ids:
    a retried job passes the same key and must not produce a second post."""

    name: str

    @property
    def capabilities(self) -> Capabilities: ...

    async def start(self, on_event: AgentEventHandler) -> None:
        """Connect and begin delivering agent events; returns once connected."""
        ...

    async def stop(self) -> None: ...

    async def open_thread(self, root: ThreadRoot, *, key: str) -> ThreadId:
        """Post the thread root; returns the thread id (root event id / ts)."""
        ...

    async def update_root(self, thread_id: ThreadId, root: ThreadRoot, *, key: str) -> None: ...

    async def ready_to_post(self, thread_id: ThreadId) -> None:
        """Wait until the next post into ``thread_id`` may go out; that post uses the slot.
        Returns at once on a platform that is not ``paced``."""
        ...

    async def post(self, thread_id: ThreadId, text: str, *, key: str) -> ChatMessageId:
        """Post into the thread; returns the chat id of the new message."""
        ...

    async def set_status(
        self,
        thread_id: ThreadId,
        chat_id: ChatMessageId,
        status: DeliveryStatus,
        *,
        previous: StatusRef | None,
        key: str,
    ) -> StatusRef | None:
        """Show ``status`` on the agent's message (a reaction), replacing ``previous``
        (the ref this method returned last time); returns the new ref. Called only on a
        platform with ``Capabilities.reactions``."""
        ...

    async def alert(self, text: str, *, thread_id: ThreadId | None, key: str) -> ChatMessageId:
        """An operational or SLA notice, in the thread or the alerts room."""
        ...

    async def show_privately(
        self, thread_id: ThreadId, user_id: str, text: str, *, key: str
    ) -> PrivateRef | None:
        """Show ``text`` to ``user_id`` alone, nobody else in the room. Returns what to
        :meth:`withdraw` later (``Capabilities.direct_rooms``), or None when nothing stays
        (``Capabilities.ephemeral``). Called only on a platform with one of the two."""
        ...

    async def withdraw(self, ref: PrivateRef, *, key: str) -> None:
        """Remove what :meth:`show_privately` left; done already counts as done."""
        ...

    async def remove_thread(self, thread_id: ThreadId, notice: str, *, key: str) -> Removal:
        """Remove the thread's posts (the root's content included) so that only ``notice``
        stays to say why; agents' replies only with ``Capabilities.redacts_others``. A repeat
        finds removed posts gone and counts them as removed. Called only on a platform with
        ``Capabilities.redaction``."""
        ...

    async def remove_posts(self, posts: Sequence[PostRef], *, reason: str, key: str) -> Removal:
        """Remove single posts (message bodies the retention purge blanked) with what hangs
        on them: the bot's status marks and edits, agents' edits where their post may go.
        Agents' posts only with ``Capabilities.redacts_others``; their status marks go
        anyway. ``reason`` is shown where the platform shows one (Matrix). A repeat finds
        removed posts gone and counts them as removed. Called only on a platform with
        ``Capabilities.redaction``."""
        ...


class CaseEvent(Frozen):
    """Something in a conversation that case systems may need to know.

    ``kind`` is ``opened``, ``message_in``, ``message_out`` or ``closed``; ``message_id``
    names the stored message for the two message kinds.
    """

    kind: str
    conversation_id: int
    message_id: int | None = None


class CaseHooks(Protocol):
    """The relay's view of case transfer: it reports events and forwards ``!case``.

    ``record`` runs inside the caller's transaction, so transfer jobs exist iff the event
    does; the transfer itself is a durable job and never blocks relaying to chat.
    """

    async def record(self, tx: Tx, event: CaseEvent) -> None: ...

    async def command(self, tx: Tx, conversation_id: int, argument: str, author: str) -> str:
        """Answer ``!case`` / ``!case <id>``; the returned text is posted in the thread."""
        ...
