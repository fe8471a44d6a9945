"""Watches the chat platform's health from the calls the relay makes anyway.

When calls keep failing with retryable errors for longer than ``platform_down_after``, on-call
is paged (the chat itself can't carry the alert then; its post waits in the queue and shows
up with the resolve once the platform is back).

With Matrix and Slack in one process (``bot.chat_targets``) each platform is watched on its
own, by the platform the call was routed to: Matrix answering must not hide Slack failing
(a success anywhere used to end the outage), and the alert names the platform that is down.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TypeVar

from bot.alerts.oncall import OnCall, duration_text
from bot.clock import Clock
from bot.domain import DeliveryStatus
from bot.errors import PlatformError
from bot.ids import ChatMessageId, StatusRef, ThreadId
from bot.ports import (
    AgentEventHandler,
    Capabilities,
    ChatFile,
    ChatPlatform,
    PostRef,
    PrivateRef,
    Removal,
    ThreadRoot,
    UploadJournal,
)
from bot.routing import chat_platform

KIND = "chat_unreachable"
T = TypeVar("T")


class MonitoredChat:
    """A ``ChatPlatform`` that forwards every call and reports outages to on-call.

    Every member of the port is forwarded by name, none through ``__getattr__``: a member
    the port gains must be added here, and mypy says so (``bot.app`` passes this class where
    a ``ChatPlatform`` is expected).
    """

    def __init__(
        self,
        inner: ChatPlatform,
        oncall: OnCall,
        clock: Clock,
        down_after: float,
        *,
        default_platform: str | None = None,
    ):
        """``default_platform``: where calls outside a conversation's scope go (the
        ``[chat] platform``); only a combination of platforms needs it."""
        self._inner = inner
        self._oncall = oncall
        self._clock = clock
        self._down_after = down_after
        self._default_platform = default_platform or inner.name
        self._failing_since: dict[str, float] = {}
        self.name = inner.name

    @property
    def capabilities(self) -> Capabilities:
        return self._inner.capabilities

    def _alert_kind(self, platform: str) -> str:
        """One platform keeps the kind it always had; in a combination each platform's
        outage is an alert of its own (raised and cleared apart)."""
        return KIND if platform == self.name else f"{KIND}.{platform}"

    async def _watch(self, call: Awaitable[T]) -> T:
        platform = chat_platform(self._default_platform)
        try:
            result = await call
        except PlatformError as error:
            if error.retryable:
                now = self._clock.now()
                since = self._failing_since.setdefault(platform, now)
                if now - since >= self._down_after:
                    texts = self._oncall.texts
                    duration = duration_text(self._down_after, texts)
                    await self._oncall.raise_alert(
                        self._alert_kind(platform),
                        texts.chat_unreachable.format(platform=platform, duration=duration),
                    )
            raise
        if self._failing_since.pop(platform, None) is not None:
            await self._oncall.clear_alert(
                self._alert_kind(platform),
                self._oncall.texts.chat_reachable.format(platform=platform),
            )
        return result

    async def start(self, on_event: AgentEventHandler | None) -> None:
        await self._inner.start(on_event)

    async def stop(self) -> None:
        await self._inner.stop()

    async def open_thread(self, root: ThreadRoot, *, key: str) -> ThreadId:
        return await self._watch(self._inner.open_thread(root, key=key))

    async def update_root(self, thread_id: ThreadId, root: ThreadRoot, *, key: str) -> None:
        await self._watch(self._inner.update_root(thread_id, root, key=key))

    async def ready_to_post(self, thread_id: ThreadId) -> bool:
        """Not watched: waiting for a posting slot says nothing about reachability."""
        return await self._inner.ready_to_post(thread_id)

    async def post(self, thread_id: ThreadId, text: str, *, key: str) -> ChatMessageId:
        return await self._watch(self._inner.post(thread_id, text, key=key))

    async def set_status(
        self,
        thread_id: ThreadId,
        chat_id: ChatMessageId,
        status: DeliveryStatus,
        *,
        previous: StatusRef | None,
        key: str,
    ) -> StatusRef | None:
        return await self._watch(
            self._inner.set_status(thread_id, chat_id, status, previous=previous, key=key)
        )

    async def alert(self, text: str, *, thread_id: ThreadId | None, key: str) -> ChatMessageId:
        return await self._watch(self._inner.alert(text, thread_id=thread_id, key=key))

    async def private_room(self, user_id: str, *, key: str) -> str:
        return await self._watch(self._inner.private_room(user_id, key=key))

    async def show_privately(
        self, thread_id: ThreadId, user_id: str, text: str, *, room_id: str | None, key: str
    ) -> PrivateRef | None:
        return await self._watch(
            self._inner.show_privately(thread_id, user_id, text, room_id=room_id, key=key)
        )

    async def withdraw(self, ref: PrivateRef, *, key: str) -> None:
        await self._watch(self._inner.withdraw(ref, key=key))

    async def remove_thread(self, thread_id: ThreadId, notice: str, *, key: str) -> Removal:
        return await self._watch(self._inner.remove_thread(thread_id, notice, key=key))

    async def remove_posts(self, posts: Sequence[PostRef], *, reason: str, key: str) -> Removal:
        return await self._watch(self._inner.remove_posts(posts, reason=reason, key=key))

    async def post_reply(
        self, thread_id: ThreadId, text: str, *, reply_to: ChatMessageId, key: str
    ) -> ChatMessageId:
        return await self._watch(
            self._inner.post_reply(thread_id, text, reply_to=reply_to, key=key)
        )

    async def react(self, chat_id: ChatMessageId, emoji: str, *, key: str) -> StatusRef | None:
        return await self._watch(self._inner.react(chat_id, emoji, key=key))

    async def unreact(self, chat_id: ChatMessageId, ref: StatusRef, *, key: str) -> None:
        await self._watch(self._inner.unreact(chat_id, ref, key=key))

    async def replace(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> None:
        await self._watch(self._inner.replace(thread_id, chat_id, text, key=key))

    async def retract(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> ChatMessageId:
        return await self._watch(self._inner.retract(thread_id, chat_id, text, key=key))

    async def post_file(
        self, thread_id: ThreadId, file: ChatFile, *, key: str, journal: UploadJournal
    ) -> ChatMessageId:
        return await self._watch(self._inner.post_file(thread_id, file, key=key, journal=journal))
