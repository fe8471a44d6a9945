"""In-memory implementations of the chat and WhatsApp ports, for driving the real relay.

They implement the ports the way errbot's TestBackend does: the relay cannot tell them from
an adapter, and every call is recorded so tests can assert what reached the chat.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from bot.domain import (
    DeliveryStatus,
    OutboundButtons,
    OutboundReaction,
    OutboundText,
    WebhookBatch,
)
from bot.ids import ChatMessageId, ProviderMessageId, StatusRef, ThreadId, WaId
from bot.ports import (
    AgentEventHandler,
    Capabilities,
    ChatFile,
    PostRef,
    PrivateRef,
    Removal,
    ThreadRoot,
    UploadJournal,
)

_ids = itertools.count(1)


class RecordingChat:
    """A chat platform that keeps every post (by thread) and every alert.

    Like Matrix (``txn_id``) it treats a repeated ``key`` as the same post unless
    ``idempotent`` is False.
    """

    name = "recording"
    capabilities = Capabilities(reactions=True)

    def __init__(self, *, idempotent: bool = True) -> None:
        self.idempotent = idempotent
        self.posts: dict[str, list[str]] = {}
        self.roots: dict[str, ThreadRoot] = {}
        self.alerts: list[tuple[str, str | None, str]] = []
        self._keys: dict[str, str] = {}

    async def start(self, on_event: AgentEventHandler | None) -> None:
        return None

    async def stop(self) -> None:
        return None

    def _once(self, key: str) -> str | None:
        return self._keys.get(key) if self.idempotent else None

    async def open_thread(self, root: ThreadRoot, *, key: str) -> ThreadId:
        if (found := self._once(key)) is not None:
            return ThreadId(found)
        thread_id = ThreadId(f"thread-{next(_ids)}")
        self._keys[key] = thread_id
        self.roots[thread_id] = root
        self.posts[thread_id] = []
        return thread_id

    async def update_root(self, thread_id: ThreadId, root: ThreadRoot, *, key: str) -> None:
        self.roots[thread_id] = root

    async def ready_to_post(self, thread_id: ThreadId) -> bool:
        return False

    async def post(self, thread_id: ThreadId, text: str, *, key: str) -> ChatMessageId:
        if (found := self._once(key)) is not None:
            return ChatMessageId(found)
        chat_id = ChatMessageId(f"post-{next(_ids)}")
        self._keys[key] = chat_id
        self.posts.setdefault(thread_id, []).append(text)
        return chat_id

    async def set_status(
        self,
        thread_id: ThreadId,
        chat_id: ChatMessageId,
        status: DeliveryStatus,
        *,
        previous: StatusRef | None,
        key: str,
    ) -> StatusRef | None:
        return StatusRef(f"reaction-{status.value}-{chat_id}")

    async def alert(self, text: str, *, thread_id: ThreadId | None, key: str) -> ChatMessageId:
        self.alerts.append((text, thread_id, key))
        return ChatMessageId(f"alert-{next(_ids)}")

    async def private_room(self, user_id: str, *, key: str) -> str:
        raise AssertionError("not declared: Capabilities(direct_rooms=False)")

    async def show_privately(
        self, thread_id: ThreadId, user_id: str, text: str, *, room_id: str | None, key: str
    ) -> PrivateRef | None:
        raise AssertionError("not declared: Capabilities(ephemeral=False, direct_rooms=False)")

    async def withdraw(self, ref: PrivateRef, *, key: str) -> None:
        raise AssertionError("not declared: Capabilities(ephemeral=False, direct_rooms=False)")

    async def remove_thread(self, thread_id: ThreadId, notice: str, *, key: str) -> Removal:
        raise AssertionError("not declared: Capabilities(redaction=False)")

    async def remove_posts(self, posts: Sequence[PostRef], *, reason: str, key: str) -> Removal:
        raise AssertionError("not declared: Capabilities(redaction=False)")

    async def post_file(
        self, thread_id: ThreadId, file: ChatFile, *, key: str, journal: UploadJournal
    ) -> ChatMessageId:
        raise AssertionError("no customers' files here (no media source is wired)")

    async def post_reply(
        self, thread_id: ThreadId, text: str, *, reply_to: ChatMessageId, key: str
    ) -> ChatMessageId:
        return await self.post(thread_id, text, key=key)

    async def react(self, chat_id: ChatMessageId, emoji: str, *, key: str) -> StatusRef | None:
        return StatusRef(f"reaction-{emoji}-{chat_id}")

    async def unreact(self, chat_id: ChatMessageId, ref: StatusRef, *, key: str) -> None:
        return None

    async def replace(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> None:
        return None

    async def retract(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> ChatMessageId:
        return await self.post(thread_id, text, key=key)


class RecordingWhatsApp:
    """A WhatsApp provider that accepts every send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def verify_challenge(self, mode: str | None, token: str | None) -> bool:
        return False

    def parse(self, body: bytes, signature_header: str | None) -> WebhookBatch:
        raise NotImplementedError("tests feed the intake directly")

    async def send_text(self, to: WaId, message: OutboundText) -> ProviderMessageId:
        self.sent.append((to, message.text))
        return ProviderMessageId(f"wamid.out{next(_ids)}")

    async def send_reaction(self, to: WaId, reaction: OutboundReaction) -> ProviderMessageId:
        self.sent.append((to, reaction.emoji))
        return ProviderMessageId(f"wamid.out{next(_ids)}")

    async def send_buttons(self, to: WaId, message: OutboundButtons) -> ProviderMessageId:
        self.sent.append((to, message.text))
        return ProviderMessageId(f"wamid.out{next(_ids)}")

    async def mark_read(self, provider_message_id: ProviderMessageId) -> None:
        return None

    async def aclose(self) -> None:
        return None
