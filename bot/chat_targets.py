"""Matrix and Slack in one process: each number's threads on the platform it names.

When the ``[[numbers]]`` entries use both platforms, ``bot.app`` starts both adapters, each
with its own connection (Matrix's sync loop, Slack's Socket Mode or HTTP events) and its
own pacing, and hands the core this one :class:`ChatTargets`. The core scopes each job's
calls to the conversation's room (``bot.routing.chatting_in``, which names the platform
too); every call here goes to the platform :func:`bot.routing.chat_platform` names, the
``[chat] platform`` outside any scope. Agent events reach the core from both adapters
through the same handler, each naming the room it was written in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Protocol

from bot.domain import DeliveryStatus
from bot.errors import PlatformError
from bot.ids import ChatMessageId, StatusRef, ThreadId
from bot.media.spool import Spool, SpooledFile
from bot.ports import (
    AgentEventHandler,
    AgentFile,
    AgentFiles,
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


class FilesPlatform(ChatPlatform, AgentFiles, Protocol):
    """An adapter that is a chat platform and where its agents' files are fetched from."""


class ChatTargets:
    """Several chat platforms behind one ``ChatPlatform`` (and ``AgentFiles``)."""

    def __init__(self, platforms: Mapping[str, FilesPlatform], default: str) -> None:
        if default not in platforms:
            raise PlatformError(f"no {default} platform configured", retryable=False)
        self._platforms = dict(platforms)
        self._default = default
        self.name = "+".join(sorted(platforms))

    def _at(self) -> FilesPlatform:
        """The platform of the scoped conversation's room."""
        name = chat_platform(self._default)
        platform = self._platforms.get(name)
        if platform is None:
            raise PlatformError(f"no {name} platform configured", retryable=False)
        return platform

    @property
    def capabilities(self) -> Capabilities:
        return self._at().capabilities

    async def start(self, on_event: AgentEventHandler | None) -> None:
        """Start each platform; one that fails stops those already started."""
        started: list[FilesPlatform] = []
        try:
            for platform in self._platforms.values():
                await platform.start(on_event)
                started.append(platform)
        except BaseException:
            for platform in started:
                with contextlib.suppress(Exception):
                    await platform.stop()
            raise

    async def stop(self) -> None:
        for platform in self._platforms.values():
            await platform.stop()

    async def open_thread(self, root: ThreadRoot, *, key: str) -> ThreadId:
        return await self._at().open_thread(root, key=key)

    async def update_root(self, thread_id: ThreadId, root: ThreadRoot, *, key: str) -> None:
        await self._at().update_root(thread_id, root, key=key)

    async def ready_to_post(self, thread_id: ThreadId) -> bool:
        return await self._at().ready_to_post(thread_id)

    async def post(self, thread_id: ThreadId, text: str, *, key: str) -> ChatMessageId:
        return await self._at().post(thread_id, text, key=key)

    async def set_status(
        self,
        thread_id: ThreadId,
        chat_id: ChatMessageId,
        status: DeliveryStatus,
        *,
        previous: StatusRef | None,
        key: str,
    ) -> StatusRef | None:
        return await self._at().set_status(thread_id, chat_id, status, previous=previous, key=key)

    async def alert(self, text: str, *, thread_id: ThreadId | None, key: str) -> ChatMessageId:
        return await self._at().alert(text, thread_id=thread_id, key=key)

    async def private_room(self, user_id: str, *, key: str) -> str:
        return await self._at().private_room(user_id, key=key)

    async def show_privately(
        self, thread_id: ThreadId, user_id: str, text: str, *, room_id: str | None, key: str
    ) -> PrivateRef | None:
        return await self._at().show_privately(thread_id, user_id, text, room_id=room_id, key=key)

    async def withdraw(self, ref: PrivateRef, *, key: str) -> None:
        """On the platform with private rooms (``Capabilities.direct_rooms``): the only
        one that leaves anything to withdraw. The job names the room, not a conversation."""
        for platform in self._platforms.values():
            if platform.capabilities.direct_rooms:
                await platform.withdraw(ref, key=key)
                return

    async def remove_thread(self, thread_id: ThreadId, notice: str, *, key: str) -> Removal:
        return await self._at().remove_thread(thread_id, notice, key=key)

    async def remove_posts(self, posts: Sequence[PostRef], *, reason: str, key: str) -> Removal:
        return await self._at().remove_posts(posts, reason=reason, key=key)

    async def post_reply(
        self, thread_id: ThreadId, text: str, *, reply_to: ChatMessageId, key: str
    ) -> ChatMessageId:
        return await self._at().post_reply(thread_id, text, reply_to=reply_to, key=key)

    async def react(self, chat_id: ChatMessageId, emoji: str, *, key: str) -> StatusRef | None:
        return await self._at().react(chat_id, emoji, key=key)

    async def unreact(self, chat_id: ChatMessageId, ref: StatusRef, *, key: str) -> None:
        await self._at().unreact(chat_id, ref, key=key)

    async def replace(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> None:
        await self._at().replace(thread_id, chat_id, text, key=key)

    async def retract(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> ChatMessageId:
        return await self._at().retract(thread_id, chat_id, text, key=key)

    async def post_file(
        self, thread_id: ThreadId, file: ChatFile, *, key: str, journal: UploadJournal
    ) -> ChatMessageId:
        return await self._at().post_file(thread_id, file, key=key, journal=journal)

    async def fetch_file(self, file: AgentFile, spool: Spool, *, cap: int) -> SpooledFile:
        """An agent's file, from the platform of the conversation it is sent in."""
        return await self._at().fetch_file(file, spool, cap=cap)
