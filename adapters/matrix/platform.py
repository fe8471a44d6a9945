"""``ChatPlatform`` on Matrix: one thread per conversation, optional E2EE, in one room or
in each business number's room (``bot.routing``).

One client and one sync loop serve every room: the E2EE device state (Olm account, Megolm
sessions) belongs to one device and must not be split between loops. Each call addresses
the room ``bot.routing.chat_room`` names (the configured id or alias, mapped to the id it
resolved to at start), the global ``[matrix] room_id`` outside any scope.

Lifecycle (login, join, the sync loop) is here; login details live in ``session``, the
homeserver calls in ``api`` (with ``matrix.encryption``: ``e2ee``, the only user of
matrix-nio), the loop in ``sync``, event shapes in ``content`` and ``events``, error mapping
in ``errors``.
Every send carries a transaction id derived from the caller's key, so a job retried after a
timeout or a crash gets the event it already created instead of a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from adapters.matrix import attachments, content, errors, media, relations
from adapters.matrix.api import MatrixApi
from adapters.matrix.content import Content
from adapters.matrix.events import ThreadIndex
from adapters.matrix.online import judge_room, state_contents
from adapters.matrix.power import power_of
from adapters.matrix.redaction import Redactor
from adapters.matrix.session import open_client
from adapters.matrix.state import FilePosition, StateFile, SyncPosition
from adapters.matrix.sync import SyncLoop, now_ms, where
from bot.config import MatrixSection
from bot.domain import DeliveryStatus
from bot.errors import PlatformError
from bot.ids import ChatMessageId, StatusRef, ThreadId
from bot.media.spool import Spool, SpooledFile
from bot.online import OnlineReport
from bot.ports import (
    AgentEventHandler,
    AgentFile,
    Capabilities,
    ChatFile,
    PostRef,
    PrivateRef,
    Removal,
    ThreadRoot,
    UploadJournal,
)
from bot.routing import chat_room

log = logging.getLogger("empfang.matrix")

RETRACT_REASON = "deleted by the customer"
"""The reason Matrix clients show on a customer line the customer deleted on WhatsApp."""
RESTART_DELAY = 5.0
"""Seconds before the sync loop is restarted after an unexpected error (a bug, not an outage:
outages are handled inside the loop)."""


class MatrixPlatform:
    """The bot's Matrix account in the configured rooms.

    ``rooms`` are the rooms whose threads it serves (synced; default: ``[matrix] room_id``),
    ``alerts_room`` the global alerts room and ``alerts_rooms`` the numbers' own (joined
    for posting, not synced).

    ``sync_position`` keeps the sync token elsewhere than ``store_path`` (the database,
    with several replicas: the next leader continues from it).

    ``bot_started_at`` (Unix seconds) is when the bot first ran, if the caller keeps it; events
    older than that are never delivered. Without it the adapter records its own first start
    under ``store_path``. ``bot_users`` are accounts (other bots, bridges) whose messages are
    flagged ``author_is_bot``; ``m.notice`` messages are flagged whoever sent them.
    """

    name = "matrix"

    def __init__(
        self,
        section: MatrixSection,
        *,
        bot_started_at: float | None = None,
        bot_users: Iterable[str] = (),
        rooms: Sequence[str] = (),
        alerts_room: str = "",
        alerts_rooms: Sequence[str] = (),
        sync_position: SyncPosition | None = None,
    ) -> None:
        self._section = section
        self._rooms = tuple(dict.fromkeys(rooms or [section.room_id]))
        self._default = section.room_id if section.room_id in self._rooms else self._rooms[0]
        """The room of calls outside any ``bot.routing`` scope."""
        self._alerts_room = alerts_room
        self._alerts_rooms = tuple(room for room in alerts_rooms if room)
        self._bot_started_at = bot_started_at
        self._bot_users = frozenset(bot_users)
        self._state = StateFile(section.store_path)
        self._position = sync_position
        """Where the sync continues, when not in the state file: the database's, shared by
        replicas (``bot.ha.sync_position``)."""
        self._resolved: dict[str, str] = {}
        """Configured room (id or alias) → its id, filled at start."""
        self._client: MatrixApi | None = None
        self._task: asyncio.Task[None] | None = None
        self._threads = ThreadIndex()
        self._redacts_others: dict[str, bool] = {}
        """Per room id: the bot holds the room's ``redact`` power level (read at start)."""
        self.timeline_limit = 50
        """Events per sync; a longer backlog is fetched page by page (see ``sync``)."""

    # -- introspection ------------------------------------------------------------------------

    @property
    def capabilities(self) -> Capabilities:
        """Not paced (the homeserver's rate limit answers with ``retry_after_ms``, which the
        job queue honours), hence no combining; no ephemeral messages. Private texts go into
        a direct room of their own, unencrypted: with ``encryption`` on, the client cannot
        encrypt for a room it has not synced yet, so there are none then. The bot redacts
        its own events at any power level, agents' with the room's ``redact`` level."""
        return Capabilities(
            reactions=True,
            direct_rooms=not self._section.encryption,
            redaction=True,
            redacts_others=self._redacts_others.get(self._room(), False),
            quote_replies=True,
        )

    @property
    def room_id(self) -> str:
        """The global room's id (resolved from an alias after ``start``)."""
        return self._resolved.get(self._default, self._default)

    def _room(self, default: str = "") -> str:
        """The id of the room a call addresses: the scoped one (``bot.routing``), else
        ``default``, else the global room. A room no longer configured is taken as an id:
        its old threads can still be answered and removed."""
        room = chat_room(default or self._default)
        return self._resolved.get(room, room)

    @property
    def user_id(self) -> str:
        return self._section.user_id

    @property
    def device_id(self) -> str | None:
        """The device in use; stable across restarts with the same ``store_path``."""
        if self._client is None:
            return None
        return self._client.device_id

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, on_event: AgentEventHandler | None) -> None:
        """Log in and join the rooms; with ``on_event``, sync once (delivering what arrived
        while stopped), then keep syncing in the background. Without it the platform only
        posts: a follower replica, whose leader receives the agents' events; a later
        ``start(on_event)`` adds the sync loop. Raises ``PlatformError`` (retryable if the
        homeserver is unreachable) and leaves nothing running that this call started."""
        if self._task is not None or (self._client is not None and on_event is None):
            raise PlatformError("Matrix platform already started", retryable=False)
        client = self._client
        if client is None:
            client = await self._connect()
        try:
            if on_event is not None:
                self._task = await self._listen(client, on_event)
        except BaseException:
            if self._client is None:
                await client.close()
            raise
        self._client = client

    async def _connect(self) -> MatrixApi:
        """Logged in, every configured room joined."""
        try:
            client = await open_client(self._section, self._state)
        except PlatformError:
            raise
        except Exception as exc:  # e.g. store_path not writable
            raise errors.from_exception("start", exc) from exc
        try:
            for room in self._rooms:
                resolved = self._resolved[room] = await self._join(client, room)
                self._redacts_others[resolved] = await self._judge_room(client, resolved)
            for room in {self._alerts_room, *self._alerts_rooms} - {"", *self._rooms}:
                self._resolved[room] = await self._join(client, room)
        except BaseException as exc:
            await client.close()
            if isinstance(exc, Exception) and not isinstance(exc, PlatformError):
                raise errors.from_exception("start", exc) from exc
            raise
        return client

    async def _listen(self, client: MatrixApi, on_event: AgentEventHandler) -> asyncio.Task[None]:
        """The first sync, then the loop's task."""
        position = self._position or FilePosition(self._state)
        try:
            # A database without a position yet (the first start with replicas) continues
            # from this replica's own file: moving to PostgreSQL loses no events.
            shared = await position.load() if self._position is not None else ""
            since = shared or self._state.state.next_batch
            loop = SyncLoop(
                client,
                rooms={self._resolved[room]: room for room in self._rooms},
                position=position,
                since=since,
                on_event=on_event,
                bot_users=self._bot_users,
                # The shared token marks what a leader delivered: this replica's own first
                # start (perhaps after the events since) must not hide anything behind it.
                cutoff_ms=0 if shared else self._cutoff_ms(),
                timeline_limit=self.timeline_limit,
                threads=self._threads,
            )
            await loop.first_sync()
        except PlatformError:
            raise
        except Exception as exc:
            raise errors.from_exception("start", exc) from exc
        log.info("matrix: syncing %s", ", ".join(self._resolved[room] for room in self._rooms))
        return asyncio.create_task(self._keep_syncing(loop), name="empfang-matrix-sync")

    async def stop(self) -> None:
        """Stop syncing and close the HTTP session; the sync token is already on disk."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def _keep_syncing(self, loop: SyncLoop) -> None:
        while True:
            try:
                await loop.run()
            except Exception as exc:
                log.error("matrix: sync loop failed (%s); restarting", where(exc))
                await asyncio.sleep(RESTART_DELAY)

    def _cutoff_ms(self) -> int:
        """Events before the bot's first start are history, not work for the relay."""
        if not self._state.state.first_start_ms:
            self._state.update(first_start_ms=now_ms())
        if self._bot_started_at is not None:
            return int(self._bot_started_at * 1000)
        return self._state.state.first_start_ms

    async def _join(self, client: MatrixApi, room: str) -> str:
        """Join (or accept the invite to) a configured room; idempotent on the server."""
        return await client.join(room)

    async def _judge_room(self, client: MatrixApi, room_id: str) -> bool:
        """Judge the room as ``check-config --online`` does (public or federated, encryption
        that does not match the config, power levels) and log what is wrong, so a room
        changed since the check was run is noticed at the next start; returns whether the
        bot may redact agents' events. Read once at start: a change takes effect with the
        next start."""
        try:
            state = state_contents(await client.room_state(room_id))
        except PlatformError as exc:
            log.warning("matrix: cannot read the room's settings (%s)", exc.code)
            return False
        report = OnlineReport()
        judge_room(state, room_id, self._section, report)
        for line in report.problems + report.warnings:
            log.warning("matrix: %s (as check-config --online would say)", line)
        creator = state.get("m.room.create", {}).get("creator")
        return power_of(self.user_id, state.get("m.room.power_levels"), creator).redacts_others

    # -- sending ------------------------------------------------------------------------------

    async def fetch_file(self, file: AgentFile, spool: Spool, *, cap: int) -> SpooledFile:
        """An agent's attachment, with the bot's own token (``AgentFiles``)."""
        client = self._require_client("download")
        return await attachments.fetch(client.homeserver, client.access_token, file, spool, cap=cap)

    def _require_client(self, action: str) -> MatrixApi:
        if self._client is None:
            raise PlatformError(f"Matrix {action}: platform not started", retryable=True)
        return self._client

    async def _send(
        self,
        action: str,
        kind: str,
        key: str,
        body: dict[str, Any],
        *,
        event_type: str = "m.room.message",
        room_id: str | None = None,
    ) -> str:
        """``room_send`` with an idempotent transaction id; encrypts in encrypted rooms."""
        client = self._require_client(action)
        txn = content.txn_id(kind, key)
        event_id = await client.send(action, room_id or self._room(), event_type, body, txn)
        log.debug("matrix: %s -> %s", action, event_id)
        return event_id

    async def open_thread(self, root: ThreadRoot, *, key: str) -> ThreadId:
        return ThreadId(await self._send("open thread", "root", key, content.root_content(root)))

    async def update_root(self, thread_id: ThreadId, root: ThreadRoot, *, key: str) -> None:
        body = content.edit_content(thread_id, content.root_content(root))
        await self._send("update root", "edit", key, body)

    async def ready_to_post(self, thread_id: ThreadId) -> bool:
        """Matrix posts are not paced: any post may go out now."""
        return False

    async def post(self, thread_id: ThreadId, text: str, *, key: str) -> ChatMessageId:
        return await self._post_in_thread(thread_id, content.thread_message(thread_id, text), key)

    async def _post_in_thread(self, thread_id: ThreadId, body: Content, key: str) -> ChatMessageId:
        event_id = ChatMessageId(await self._send("post", "post", key, body))
        self._threads.remember(event_id, thread_id)
        return event_id

    # -- mirroring (``bot.mirror``) -----------------------------------------------------------

    async def post_reply(
        self, thread_id: ThreadId, text: str, *, reply_to: ChatMessageId, key: str
    ) -> ChatMessageId:
        body = relations.reply_in_thread(thread_id, text, reply_to)
        return await self._post_in_thread(thread_id, body, key)

    async def react(self, chat_id: ChatMessageId, emoji: str, *, key: str) -> StatusRef | None:
        """None when the bot shows this emoji on the post already (a status mark such as
        👁): a second annotation is refused, and removing the first would take the mark."""
        body = relations.annotation(chat_id, emoji)
        try:
            return StatusRef(
                await self._send("react", "mirror", key, body, event_type="m.reaction")
            )
        except PlatformError as exc:
            if exc.code == "M_DUPLICATE_ANNOTATION":
                return None
            raise

    async def unreact(self, chat_id: ChatMessageId, ref: StatusRef, *, key: str) -> None:
        await self._redact(ref, key)

    async def replace(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> None:
        body = content.edit_content(chat_id, {"msgtype": "m.text", "body": text})
        await self._send("replace", "edit", key, body)

    async def retract(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> ChatMessageId:
        """An edit would leave the old text on the server (clients list a post's versions):
        the post and everything on it (its edits, reactions) are redacted, and ``text`` is
        posted anew, first, so the thread never lacks the line."""
        shown = await self.post(thread_id, text, key=key)
        client = self._require_client("retract")
        post = PostRef(chat_id=chat_id, by_bot=True)
        await self._redactor(client).remove_posts([post], reason=RETRACT_REASON, key=key)
        return shown

    async def post_file(
        self, thread_id: ThreadId, file: ChatFile, *, key: str, journal: UploadJournal
    ) -> ChatMessageId:
        """Upload, then the file event (``adapters.matrix.media``). The event's transaction
        id makes a retry idempotent; a retry uploads again, leaving the first upload
        unreferenced. The journal notes the ``mxc://`` URI the event shows (the relay
        records it with the post, for an admin purging Synapse's media)."""
        client = self._require_client("upload file")
        uri, keys = await client.upload(file, self._room())
        await journal.record(uri)
        body = media.file_content(thread_id, file, uri, keys)
        event_id = ChatMessageId(await self._send("post file", "file", key, body))
        self._threads.remember(event_id, thread_id)
        return event_id

    async def alert(self, text: str, *, thread_id: ThreadId | None, key: str) -> ChatMessageId:
        """In the thread; without one in the alerts room (``[alerts] room``), else the room."""
        if thread_id is None:
            body = content.room_message(text, msgtype="m.notice")
            room = self._room(self._alerts_room)
        else:
            body = content.thread_message(thread_id, text, msgtype="m.notice")
            room = None
        return ChatMessageId(await self._send("alert", "alert", key, body, room_id=room))

    async def set_status(
        self,
        thread_id: ThreadId,
        chat_id: ChatMessageId,
        status: DeliveryStatus,
        *,
        previous: StatusRef | None,
        key: str,
    ) -> StatusRef | None:
        """React with the status emoji, then redact the previous mark (in that order, so the
        message never shows no status). A retry re-sends nothing new: both steps are keyed."""
        try:
            event_id = await self._send(
                "set status",
                "react",
                key,
                content.reaction(chat_id, status),
                event_type="m.reaction",
            )
        except PlatformError as exc:
            if exc.code != "M_DUPLICATE_ANNOTATION":
                raise
            # The same mark is already there (sent under another key): reuse it.
            found = await self._own_reaction(chat_id, content.STATUS_EMOJI[status])
            if found is None:
                raise
            event_id = found
        if previous and previous != event_id:
            await self._redact(previous, key)
        return StatusRef(event_id)

    async def _own_reaction(self, chat_id: str, emoji: str) -> str | None:
        client = self._require_client("set status")
        try:
            reactions = await client.relations(
                self._room(), chat_id, rel_type=content.ANNOTATION, event_type="m.reaction"
            )
        except PlatformError as exc:
            # Any failure here just means the earlier mark cannot be found.
            log.warning("matrix: cannot list reactions on %s (%s)", chat_id, exc.code)
            return None
        for source in reactions:
            relates = source.get("content", {}).get("m.relates_to", {})
            if source.get("sender") == client.user_id and relates.get("key") == emoji:
                return str(source["event_id"])
        return None

    async def _redact(self, event_id: str, key: str) -> None:
        client = self._require_client("redact")
        txn = content.txn_id("redact", f"{key}\x00{event_id}")
        try:
            await client.redact("redact status", self._room(), event_id, txn)
        except PlatformError as failure:
            if failure.retryable:
                raise
            # The new mark is in place; an old one that cannot be removed is cosmetic.
            log.warning("matrix: could not redact old status %s (%s)", event_id, failure.code)

    # -- removing a thread --------------------------------------------------------------------

    async def remove_thread(self, thread_id: ThreadId, notice: str, *, key: str) -> Removal:
        """Post ``notice`` into the thread, then redact every event relating to the root
        (thread posts with their status marks and edits, the root's edits) and the root
        itself, all but the notice. Agents' events only with the ``redact`` power level;
        the rest are counted as kept. Synapse drops redacted events from the relations it
        lists, so a repeat after a partial run redacts (and counts) the rest."""
        client = self._require_client("remove thread")
        body = content.thread_message(thread_id, notice, msgtype="m.notice")
        keep = await self._send("remove thread", "removed", key, body)
        redactor = self._redactor(client)
        related = await redactor.relations(thread_id)
        root = await client.event(self._room(), thread_id)
        if root is not None:
            related.append(root)
        removed = kept = 0
        for event in related:
            event_id = str(event.get("event_id"))
            if event_id == keep or not event.get("content"):
                continue  # the notice stays; an empty content was redacted already
            if event_id != thread_id:
                await redactor.clear(event_id, key=key)
            if not redactor.may_redact(event):
                kept += 1
                continue
            await redactor.redact(event_id, key=key)
            removed += 1
        return Removal(removed=removed, kept=kept)

    async def remove_posts(self, posts: Sequence[PostRef], *, reason: str, key: str) -> Removal:
        """Redact each post after its relations (``adapters.matrix.redaction``)."""
        client = self._require_client("remove posts")
        return await self._redactor(client).remove_posts(posts, key=key, reason=reason)

    def _redactor(self, client: MatrixApi) -> Redactor:
        room = self._room()
        return Redactor(
            client, room, self.user_id, redacts_others=self._redacts_others.get(room, False)
        )

    # -- private texts ------------------------------------------------------------------------

    async def private_room(self, user_id: str, *, key: str) -> str:
        """A new invite-only direct room (``is_direct``, not federated) with ``user_id``
        invited and nobody else."""
        client = self._require_client("create direct room")
        return await client.create_room(
            {
                "visibility": "private",
                "preset": "private_chat",
                "is_direct": True,
                "invite": [user_id],
                "creation_content": {"m.federate": False},
            }
        )

    async def show_privately(
        self, thread_id: ThreadId, user_id: str, text: str, *, room_id: str | None, key: str
    ) -> PrivateRef:
        """``text`` in the direct room from :meth:`private_room`; the caller withdraws it
        with :meth:`withdraw`."""
        if room_id is None:
            raise PlatformError("Matrix shows private texts in a direct room", retryable=False)
        event_id = await self._send(
            "show privately", "private", key, content.room_message(text), room_id=room_id
        )
        return PrivateRef(room_id=room_id, event_id=event_id)

    async def withdraw(self, ref: PrivateRef, *, key: str) -> None:
        """Redact every text the bot left in the room (``ref``'s and any copy a retried
        job sent), then leave it (the invitee keeps an empty room)."""
        client = self._require_client("withdraw")
        await Redactor(client, ref.room_id, self.user_id, redacts_others=False).own_messages(
            key=key
        )
        try:
            await client.leave(ref.room_id)
        except PlatformError as exc:
            log.info("matrix: could not leave direct room (%s)", exc.code)
