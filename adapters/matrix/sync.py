"""The sync loop: long-poll the homeserver, hand agent messages to the relay, remember where.

Own loop instead of nio's ``sync_forever`` for three reasons:

- ``sync_forever`` raises on the first connection error, so a homeserver restart would end it;
  this loop backs off and resumes from the stored token, losing nothing.
- nio stores its sync token *before* callbacks run; here the token is saved only after the
  batch was delivered (at-least-once: after a crash the relay may see an event twice, keyed by
  its event id, but never misses one).
- a ``limited`` timeline (more events arrived while the bot was down than one sync returns)
  is filled from ``/messages`` back to the previous token instead of silently skipped.

The filter leaves out the bot's own events (``not_senders``). A homeserver wakes a waiting
``/sync`` for every new event in the room, so without it the loop ran one sync per post the
bot made only to skip its echo (bench/README.md: a third of the Python calls per relayed
message). A filtered long poll stays waiting while its answer would be empty (Synapse), so
syncs now come for agents' events. The echoes told the loop nothing it needs: the bot's own
posts are never delivered, the threads of its posts are remembered when it posts them, and
an edit of an event the loop does not know asks the homeserver for its thread.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import traceback
from collections.abc import Iterable
from typing import Any

from adapters.matrix import errors, events, relations
from adapters.matrix.api import Event, MatrixApi
from adapters.matrix.members import RoomMembers
from adapters.matrix.state import SyncPosition
from bot.errors import PlatformError
from bot.ids import ThreadId
from bot.ports import AgentEvent, AgentEventHandler, AgentMessage

log = logging.getLogger("empfang.matrix")

POLL_TIMEOUT_MS = 2_000
"""How long a ``/sync`` waits for news. Short, because of the filter: Synapse wakes a
waiting sync for every event in the room and recomputes it from its ``since`` token,
filtering the events in Python (up to 500 per wake), so while the bot posts the same
filtered-out range grows with every wake for as long as the poll lasts. Measured (600 posts
at 40/s, Synapse's CPU per post): 42–45 ms with a 30 s poll, 30–33 ms with 2 s, 30–37 ms
with no filter at all. An empty answer costs the bot about a millisecond."""
TOKEN_SAVE_INTERVAL = 60.0
"""Seconds between writes of the sync token when the answers bring nothing: an answer with
no events in the rooms changes nothing a restart would replay, so the short poll does not
mean a write (ending in an fsync) every two seconds."""
BACKOFF_START = 0.5
BACKOFF_MAX = 10.0
"""Seconds between attempts while the homeserver is away; small, so service resumes soon
after it is back (a failed connect to a stopped server costs next to nothing)."""
GAP_FILL_MAX = 1_000
"""Most events fetched to fill one gap; beyond that the oldest are skipped with a warning."""
GAP_TYPES = ["m.room.message", "m.room.encrypted", "m.reaction", "m.room.redaction"]
"""What a sync gap is filled with: messages, and agents' reactions and their removal."""
ENCRYPTED_EVENT = "m.room.encrypted"
"""An event still of this type after the client's decryption could not be decrypted."""


class SyncLoop:
    """Runs ``/sync`` for one client and delivers the configured rooms' messages, each
    event naming the room it was written in as configured (``AgentMessage.room_id``)."""

    def __init__(
        self,
        client: MatrixApi,
        *,
        rooms: dict[str, str],
        position: SyncPosition,
        since: str,
        on_event: AgentEventHandler,
        bot_users: frozenset[str],
        cutoff_ms: int,
        timeline_limit: int,
        threads: events.ThreadIndex,
    ) -> None:
        self._client = client
        self._rooms = rooms
        """Room id → the room as configured (an alias stays an alias)."""
        self._position = position
        self._since = since or None
        """The token of the last batch delivered (``position`` stores it)."""
        self._on_event = on_event
        self._bot_users = bot_users
        self._cutoff_ms = cutoff_ms
        self._timeline_limit = timeline_limit
        self._threads = threads
        self._seen: events.ThreadIndex = events.ThreadIndex(capacity=2_000)
        self._members = {room_id: RoomMembers() for room_id in rooms}
        self._saved_at = time.monotonic()
        """When the sync token was last written (``TOKEN_SAVE_INTERVAL``)."""

    # -- filters ------------------------------------------------------------------------------

    def _filter(self, timeline_limit: int) -> dict[str, Any]:
        """Only the configured rooms, no presence, typing or receipts: less to transfer;
        and not the bot's own events (see the module's docstring)."""
        return {
            "presence": {"not_types": ["*"]},
            "account_data": {"not_types": ["*"]},
            "room": {
                "rooms": list(self._rooms),
                "timeline": {"limit": timeline_limit, "not_senders": [self._client.user_id]},
                "ephemeral": {"not_types": ["*"]},
                "account_data": {"not_types": ["*"]},
            },
        }

    # -- one sync -----------------------------------------------------------------------------

    async def _sync(self, *, since: str | None, first: bool) -> Event:
        """One ``/sync``; raises ``PlatformError`` for any failure.

        ``full_state`` on a process's first sync brings every member of the rooms (names,
        membership), which are not kept across restarts. Every call is bounded here too.
        """
        limit = 1 if first and not since else self._timeline_limit
        timeout_ms = 0 if first else POLL_TIMEOUT_MS
        budget = (timeout_ms / 1000) + 30
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancel that
        # arrives as the sync completes, and stop() then waits forever.
        try:
            async with asyncio.timeout(budget):
                return await self._client.sync(
                    since=since,
                    timeout_ms=timeout_ms,
                    sync_filter=self._filter(limit),
                    full_state=first,
                )
        except TimeoutError as exc:
            raise errors.from_exception("sync", exc) from exc

    async def first_sync(self) -> None:
        """The sync ``start()`` waits for. With no stored token (the bot's first start ever)
        everything it returns is history and is dropped; otherwise it delivers what arrived
        while the bot was stopped."""
        since = self._since
        response = await self._sync(since=since, first=True)
        if since is None:
            log.info("matrix: first start, skipping room history")
            for room_id, info in _joined(response).items():
                if room_id in self._members:
                    members = self._members[room_id]
                    members.update(_events(info.get("state")))
                    members.update(_events(info.get("timeline")))
            await self._store_token(str(response.get("next_batch") or ""))
        else:
            await self._handle(response, since)
        await self._crypto_housekeeping()

    async def run(self) -> None:
        """Sync until cancelled; survives the homeserver going away and coming back."""
        failures = 0
        while True:
            since = self._since
            try:
                response = await self._sync(since=since, first=False)
            except PlatformError as exc:
                failures += 1
                wait = self._backoff(failures, exc.retry_after)
                if failures == 1:
                    level = logging.WARNING if exc.retryable else logging.ERROR
                    log.log(level, "matrix: sync failed (%s); retrying", exc)
                else:
                    log.debug("matrix: sync failed again (%s), next try in %.1f s", exc, wait)
                await asyncio.sleep(wait)
                continue
            if failures:
                log.info("matrix: homeserver reachable again after %d failed syncs", failures)
                failures = 0
            await self._handle(response, since)
            await self._crypto_housekeeping()

    @staticmethod
    def _backoff(failures: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        ceiling: float = min(BACKOFF_MAX, BACKOFF_START * 2.0 ** min(failures - 1, 16))
        jitter: float = random.uniform(0.5, 1.0)
        return ceiling * jitter

    # -- delivery -----------------------------------------------------------------------------

    async def _handle(self, response: Event, since: str | None) -> None:
        """Deliver the rooms' new events, then store the token (so a crash replays, not loses)."""
        left = (response.get("rooms") or {}).get("leave") or {}
        joined = _joined(response)
        for room_id in self._rooms:
            if room_id in left:
                log.error("matrix: the bot is no longer in room %s (kicked or left)", room_id)
            room_info = joined.get(room_id)
            if room_info is None:
                continue
            self._members[room_id].update(_events(room_info.get("state")))
            timeline = room_info.get("timeline") or {}
            gap: list[Event] = []
            prev_batch = timeline.get("prev_batch")
            if timeline.get("limited") and since and isinstance(prev_batch, str) and prev_batch:
                gap = await self._fill_gap(room_id, prev_batch, since)
            await self._deliver(room_id, [*gap, *_events(timeline)])
        next_batch = response.get("next_batch")
        if not isinstance(next_batch, str) or not next_batch or next_batch == self._since:
            return
        carried = any(
            _events(joined[room].get("timeline")) for room in self._rooms if room in joined
        )
        if carried or time.monotonic() - self._saved_at >= TOKEN_SAVE_INTERVAL:
            await self._store_token(next_batch)
        else:
            self._since = next_batch  # nothing to replay before it: kept in memory only

    async def _store_token(self, token: str) -> None:
        """Store the sync token, then continue from it. A stop that arrives during the
        write waits for it, so a clean restart replays nothing."""
        write = asyncio.ensure_future(self._position.save(token))
        try:
            await asyncio.shield(write)
        except asyncio.CancelledError:
            await write
            raise
        finally:
            if write.done() and not write.cancelled() and write.exception() is None:
                self._since = token
                self._saved_at = time.monotonic()

    async def _fill_gap(self, room_id: str, prev_batch: str, since: str) -> list[Event]:
        """Events between the last delivered sync and this limited timeline, oldest first."""
        found: list[Event] = []
        token = prev_batch
        wanted = {"types": GAP_TYPES, "not_senders": [self._client.user_id]}
        while len(found) < GAP_FILL_MAX:
            try:
                chunk, end = await self._client.messages(
                    room_id, start=token, end=since, limit=100, event_filter=wanted
                )
            except PlatformError as exc:
                log.warning("matrix: could not fill sync gap (%s)", exc.code or "unreachable")
                break
            found.extend(chunk)
            if not chunk or not end or end == token:
                break
            token = end
        else:
            log.warning("matrix: more than %d events missed; older ones skipped", GAP_FILL_MAX)
        log.info("matrix: filled a sync gap with %d events", len(found))
        found.reverse()
        return found

    async def _deliver(self, room_id: str, timeline: Iterable[Event]) -> None:
        members = self._members[room_id]
        for event in timeline:
            members.update([event])
            translated = await self._translate(event, members, room_id)
            if translated is None:
                continue
            message = translated.model_copy(update={"room_id": self._rooms[room_id]})
            if isinstance(message, AgentMessage):
                self._threads.remember(message.chat_id, message.thread_id)
            try:
                await self._on_event(message)
            except Exception as exc:
                # Type and place only, never the exception's text: it may quote the message.
                log.error(
                    "matrix: handler failed for event %s (%s)", event.get("event_id"), where(exc)
                )

    async def _translate(
        self, source: Event, members: RoomMembers, room_id: str
    ) -> AgentEvent | None:
        event_id = source.get("event_id")
        sender = source.get("sender")
        if not isinstance(event_id, str) or not isinstance(sender, str):
            return None
        if event_id in self._seen:
            return None
        self._seen.remember(event_id, None)
        content = source.get("content")
        content = content if isinstance(content, dict) else {}
        if source.get("type") == ENCRYPTED_EVENT:
            session = content.get("session_id")
            log.warning("matrix: cannot decrypt event %s (session %s)", event_id, session)
            return None
        if sender == self._client.user_id:
            # Own posts are never delivered (the filter keeps them out; a gap page may not),
            # but their threads place later edits.
            self._threads.remember(event_id, events.thread_root(content))
            return None
        timestamp = source.get("origin_server_ts")
        if isinstance(timestamp, int) and timestamp < self._cutoff_ms:
            return None
        if source.get("type") in (relations.REACTION_EVENT, relations.REDACTION_EVENT):
            return relations.to_agent_reaction(
                source,
                author_name=members.display_name(sender),
                author_is_member=members.is_joined(sender),
                own_user_id=self._client.user_id,
            )
        edit_of = events.edit_target(content)
        return events.to_agent_message(
            source,
            own_user_id=self._client.user_id,
            bot_users=self._bot_users,
            author_name=members.display_name(sender),
            author_is_member=members.is_joined(sender),
            edit_thread=await self._thread_of(room_id, edit_of) if edit_of else None,
        )

    async def _thread_of(self, room_id: str, event_id: str) -> ThreadId | None:
        """The thread of an edited event: from memory, else from the homeserver.

        The relation of an encrypted event is in its cleartext part, so no decryption is
        needed for this.
        """
        if event_id in self._threads:
            return self._threads.get(event_id)
        try:
            source = await self._client.event(room_id, event_id)
        except PlatformError as exc:
            log.warning("matrix: cannot look up edited event %s (%s)", event_id, exc.code)
            return None
        content = source.get("content") if source is not None else None
        thread = events.thread_root(content) if isinstance(content, dict) else None
        self._threads.remember(event_id, thread)
        return thread

    # -- E2EE upkeep --------------------------------------------------------------------------

    async def _crypto_housekeeping(self) -> None:
        """The client's upkeep between syncs (E2EE key shares, uploads, queries, claims).

        Failures are logged and retried after the next sync; they must not stop the loop.
        """
        try:
            await self._client.housekeeping()
        except Exception as exc:
            log.warning("matrix: E2EE key maintenance failed (%s)", type(exc).__name__)


def _joined(response: Event) -> dict[str, Event]:
    """The joined rooms' sections of a sync answer, by room id."""
    joined = (response.get("rooms") or {}).get("join") or {}
    return {room: info for room, info in joined.items() if isinstance(info, dict)}


def _events(section: Any) -> list[Event]:
    """The events of a sync answer's ``state`` or ``timeline`` section."""
    found = section.get("events") if isinstance(section, dict) else None
    return [event for event in found or () if isinstance(event, dict)]


def now_ms() -> int:
    return int(time.time() * 1000)


def where(exc: BaseException) -> str:
    """``RuntimeError at bot/relay.py:120 in handle``: enough to find a bug, no content."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} at {last.filename}:{last.lineno} in {last.name}"
