"""The interfaces adapters implement. The core talks only to these.

Chat platforms receive already rendered, masked text (``bot.render`` is the one place that
turns domain messages into chat text) and report what agents do as ``AgentEvent``s; the
relay decides what those events mean. Which room or channel a call addresses is not an
argument: the core scopes it per conversation (``bot.routing.chatting_in``) and an adapter
serving several rooms asks ``bot.routing.chat_room``; events name the room they came from.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import Field, model_validator

from bot.domain import (
    DeliveryStatus,
    Frozen,
    OutboundButtons,
    OutboundReaction,
    OutboundText,
    WebhookBatch,
)
from bot.ids import ChatMessageId, ProviderMessageId, StatusRef, ThreadId, WaId
from bot.templates.model import MessageTemplate, TemplateMessage

if TYPE_CHECKING:
    from bot.media.spool import Spool, SpooledFile
    from bot.store import Tx


class TemplateCatalogueSource(Protocol):
    """Where the approved templates are read (the Cloud API's WhatsApp Business Account)."""

    async def message_templates(self) -> list[MessageTemplate]: ...


class TemplateProvider(TemplateCatalogueSource, Protocol):
    """Approved message templates: the catalogue and sending one (``bot.providers``)."""

    async def send_template(self, to: WaId, message: TemplateMessage) -> ProviderMessageId: ...

    def sends_from(self, number_id: str) -> bool:
        """Whether a template can leave from this business number (not from a Twilio
        number: refused before anything is queued)."""
        ...


class WebhookReceiver(Protocol):
    """One provider's webhook endpoint (``bot.web``): the GET handshake and the checked,
    parsed POST. Apart from :class:`WhatsAppProvider`, because sends are routed per number
    (``bot.providers``) while each webhook endpoint belongs to one provider."""

    def verify_challenge(self, mode: str | None, token: str | None) -> bool: ...

    def parse(self, body: bytes, signature_header: str | None) -> WebhookBatch: ...


class WhatsAppProvider(Protocol):
    """What the relay sends through; the number a send leaves from is ``bot.routing``'s."""

    async def send_text(self, to: WaId, message: OutboundText) -> ProviderMessageId: ...

    async def send_reaction(self, to: WaId, reaction: OutboundReaction) -> ProviderMessageId: ...

    async def send_buttons(self, to: WaId, message: OutboundButtons) -> ProviderMessageId: ...

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


class AgentFile(Frozen):
    """A file an agent attached to a message, as the chat reported it. Only a reference:
    the send job fetches the bytes through :class:`AgentFiles` when it runs.

    ``kind`` is the chat's own word (Matrix ``m.image`` → ``image``; Slack files are
    ``file``); what WhatsApp gets follows from the type. ``ref`` is where the platform
    keeps it (an ``mxc://`` URI, a Slack ``url_private_download``); ``secrets`` holds the
    Matrix ``file`` object (key, iv, hash) of an attachment in an encrypted room.
    """

    kind: Literal["image", "video", "audio", "file"]
    name: str
    ref: str
    mime_type: str | None = None
    size: int | None = None
    secrets: str | None = None


class AgentMessage(Frozen):
    """Something a person (or bot) wrote in the chat, normalised by the adapter.

    ``thread_id`` is the thread root's id, None for messages outside any thread.
    ``edit_of`` is the chat id of the message this one edits, for edits. ``files`` are
    attached files; ``text`` is then their caption (Matrix) or comment (Slack).
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
    files: tuple[AgentFile, ...] = ()
    reply_to: ChatMessageId | None = None
    """The message this one answers explicitly (Matrix: a quote reply in the thread)."""
    room_id: str = ""
    """The room or channel it was written in, as configured (``bot.routing``); "" when the
    platform serves one room only."""


class AgentReaction(Frozen):
    """An agent added or removed a reaction (``bot.mirror.agent``).

    ``reaction_id`` names the reaction itself (Matrix: its event id; Slack: built from
    message, user and name), so a removal finds what it removes. ``target_id`` is the
    message reacted to; a Matrix removal (a redaction) knows only ``reaction_id``.
    ``emoji`` is None when the platform's reaction has no known emoji (a custom Slack
    emoji); ``name`` is what the platform calls it, for the explanation.
    """

    reaction_id: str
    target_id: ChatMessageId | None
    emoji: str | None
    name: str
    removed: bool
    author_id: str
    author_name: str
    author_is_bot: bool = False
    author_is_self: bool = False
    author_is_member: bool = True
    room_id: str = ""
    """The room or channel it was written in, as configured (``bot.routing``); "" when the
    platform serves one room only."""


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
    room_id: str = ""
    """The room or channel it was written in, as configured (``bot.routing``); "" when the
    platform serves one room only."""


class AgentFiles(Protocol):
    """Where the relay fetches agents' files from: the chat platform, with its own token."""

    async def fetch_file(self, file: AgentFile, spool: Spool, *, cap: int) -> SpooledFile:
        """Stream the file's bytes (decrypted) into ``spool``; ``MediaTooLarge`` past
        ``cap`` bytes (nothing more is read), ``PlatformError`` when it cannot be had."""
        ...


class TemplateRequest(Frozen):
    """An agent asks to send an approved template from a form (Slack's modal); typed
    ``!template`` commands arrive as :class:`AgentMessage`. ``request_id`` identifies the
    submission (the Slack view id), so a repeated submission sends nothing twice."""

    request_id: str
    thread_id: ThreadId
    name: str
    language: str
    parameters: tuple[str, ...] = ()
    author_id: str
    author_name: str
    author_is_member: bool = True
    room_id: str = ""
    """The room or channel it was written in, as configured (``bot.routing``); "" when the
    platform serves one room only."""


class TemplateChoices(Protocol):
    """What a template form offers (``bot.templates.catalogue``): the approved templates."""

    async def sendable(self) -> list[MessageTemplate]: ...


AgentEvent = AgentMessage | AgentAction | AgentReaction | TemplateRequest
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
    quote_replies: bool = False
    """:meth:`ChatPlatform.post_reply` shows a post as the answer to an earlier one (Matrix
    ``m.in_reply_to``); without it the relay quotes the earlier post's first line."""

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
    marks: tuple[StatusRef, ...] = ()
    """The bot's reactions on it (the delivery mark of :meth:`ChatPlatform.set_status`, a
    customer's reaction :meth:`ChatPlatform.react` mirrored), which go with it even where
    the post itself has to stay."""
    file: str | None = None
    """The post shows a customer's file (:meth:`ChatPlatform.post_file`), as the upload
    journal named it: Slack's file id (deleted with its share), Matrix's ``mxc://`` URI
    (the redacted event leaves it unreferenced; no client API deletes it)."""


class PrivateRef(Frozen):
    """Where :meth:`ChatPlatform.show_privately` put a text that must be withdrawn later."""

    room_id: str
    event_id: str


class ChatFile(Frozen):
    """A customer's file for the thread, already checked, stripped and named (masked).

    ``kind`` says how chats show it: ``voice`` is a recorded voice note (played inline),
    ``audio`` an audio file; a sticker comes as an ``image``. ``width``/``height`` are
    known for images. The file at ``path`` is the relay's to delete after the post.
    """

    path: Path
    name: str
    mime_type: str
    size: int
    kind: Literal["image", "video", "audio", "voice", "file"]
    width: int | None = None
    height: int | None = None


class UploadJournal(Protocol):
    """Where a platform notes an upload in progress, durably (in the relay's job).

    A platform whose posts are not idempotent by key (Slack's file uploads) records what it
    started; after a crash the retried job hands the note back as ``started``, so the
    platform finishes or finds that upload instead of posting the file twice.
    """

    @property
    def started(self) -> str | None: ...

    async def record(self, note: str) -> None: ...


class ChatPlatform(Protocol):
    """Slack or Matrix. ``key`` arguments are idempotency keys derived from stable ids:
    a retried job passes the same key and must not produce a second post."""

    name: str

    @property
    def capabilities(self) -> Capabilities: ...

    async def start(self, on_event: AgentEventHandler | None) -> None:
        """Connect and begin delivering agent events; returns once connected. ``None``:
        connect for posting only (a follower replica; the leader receives the events);
        a later call with a handler adds the delivery."""
        ...

    async def stop(self) -> None: ...

    async def open_thread(self, root: ThreadRoot, *, key: str) -> ThreadId:
        """Post the thread root; returns the thread id (root event id / ts)."""
        ...

    async def update_root(self, thread_id: ThreadId, root: ThreadRoot, *, key: str) -> None: ...

    async def ready_to_post(self, thread_id: ThreadId) -> bool:
        """Wait until the next post into ``thread_id`` may go out; that post uses the slot.
        True if it had to wait (lines may have queued meanwhile); False at once on a
        platform that is not ``paced``."""
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

    async def private_room(self, user_id: str, *, key: str) -> str:
        """A new room where :meth:`show_privately` shows texts to ``user_id`` alone, with
        nobody else invited. The caller keeps it (``bot.reveal`` in the store), so a
        retried job shows its text in the same room. Called only on a platform with
        ``Capabilities.direct_rooms``."""
        ...

    async def show_privately(
        self, thread_id: ThreadId, user_id: str, text: str, *, room_id: str | None, key: str
    ) -> PrivateRef | None:
        """Show ``text`` to ``user_id`` alone, nobody else in the room: in ``room_id``
        from :meth:`private_room` (``Capabilities.direct_rooms``), returning what to
        :meth:`withdraw` later; or with nothing left to withdraw, returning None
        (``Capabilities.ephemeral``, ``room_id`` None). Called only on a platform with one
        of the two."""
        ...

    async def withdraw(self, ref: PrivateRef, *, key: str) -> None:
        """Remove every text :meth:`show_privately` left in ``ref``'s room (a retried job
        may have shown its text twice); done already counts as done."""
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

    # -- mirroring (``bot.mirror``): what customers do to earlier messages ---------------------

    async def post_reply(
        self, thread_id: ThreadId, text: str, *, reply_to: ChatMessageId, key: str
    ) -> ChatMessageId:
        """Post into the thread as the answer to ``reply_to``. Called only on a platform
        with ``Capabilities.quote_replies``."""
        ...

    async def react(self, chat_id: ChatMessageId, emoji: str, *, key: str) -> StatusRef | None:
        """Show the customer's reaction ``emoji`` on a post; returns what :meth:`unreact`
        removes, or None when the platform cannot show this emoji as a reaction."""
        ...

    async def unreact(self, chat_id: ChatMessageId, ref: StatusRef, *, key: str) -> None:
        """Remove a reaction :meth:`react` added; gone already counts as done."""
        ...

    async def replace(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> None:
        """Show ``text`` instead of the bot's post ``chat_id`` (an edit)."""
        ...

    async def retract(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> ChatMessageId:
        """Remove the bot's post ``chat_id`` and every earlier version of it from the chat
        for good, and show ``text`` in its place; returns the post that shows it. Unlike
        :meth:`replace`, nothing of the old content may stay readable (Matrix keeps edited
        versions, so there the post and its edits are redacted and ``text`` posted anew)."""
        ...

    # -- media (``bot.media.inbound``) ------------------------------------------------------

    async def post_file(
        self, thread_id: ThreadId, file: ChatFile, *, key: str, journal: UploadJournal
    ) -> ChatMessageId:
        """Upload ``file`` into the thread (encrypted in an encrypted room); returns what
        names it in the chat (Matrix: the event; Slack: the file, whose share is made
        asynchronously). Retried with the same key and journal, it must not show the file
        twice."""
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
