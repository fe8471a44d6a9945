"""``ChatPlatform`` on Slack: a set of channels (one per business number, or one for all),
one thread per conversation.

The root is a Block Kit card (``blocks``) with Claim / Close buttons; customer lines,
notices and alerts are thread replies; delivery states are reactions on the agent's reply.
Posts are paced per channel (``pacing``) and carry their idempotency key as message
metadata, so a retried job finds its earlier post (``ledger``) instead of posting twice.
Events arrive through ``receiver`` (Socket Mode or HTTP) and are translated by ``events``.

Every call addresses the channel of the conversation it is for: the core scopes it
(``bot.routing.chatting_in``) and the adapter asks :func:`~bot.routing.chat_room`, falling
back to ``[slack] channel_id``; the method signatures stay those of ``ChatPlatform``. One
receiver serves every channel: Slack hands a Socket Mode app's events to one of its
connections at random, so a connection per channel would lose events. Thread ``ts`` are
unique only within a channel, so whatever the adapter remembers per thread (posts found,
members) is kept per channel, every event names its channel (``room_id``), and the ids
the core keeps name their channel outside the home one (``chat_ids``); a call on a
thread or post addresses the channel its id names.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import attachments, blocks, errors, inbound, reactions
from adapters.slack.chat_ids import ChatIds, Located
from adapters.slack.events import (
    Directory,
    Identity,
    parse_action,
    parse_message,
    to_agent_action,
    to_agent_message,
)
from adapters.slack.exposure import exposure
from adapters.slack.files import ThreadUploads
from adapters.slack.ledger import ROOTS, PostLedger, Scope
from adapters.slack.members import ChannelMembers
from adapters.slack.modal import TemplateForm
from adapters.slack.pacing import ChannelPacer
from adapters.slack.receiver import Receiver
from bot.config import SlackSection
from bot.domain import DeliveryStatus
from bot.errors import PlatformError
from bot.ids import ChatMessageId, StatusRef, ThreadId
from bot.media.spool import Spool, SpooledFile
from bot.ports import (
    AgentEventHandler,
    AgentFile,
    AgentReaction,
    Capabilities,
    ChatFile,
    PostRef,
    PrivateRef,
    Removal,
    TemplateChoices,
    ThreadRoot,
    UploadJournal,
)
from bot.routing import chat_room
from bot.texts import Texts

log = logging.getLogger("empfang.slack")

DEFAULT_API_BASE = "https://slack.com/api/"
MAX_POST_CHARS = 39_000
"""Slack truncates ``text`` beyond 40,000 characters; we cut visibly before that."""
SCAN_PAGES = 20
"""Pages of 200 messages read when looking for an earlier post in one thread."""
REMOVE_PAGES = 50
"""Pages of 200 messages read when removing a thread: 10,000 replies."""
UNDELETABLE = frozenset({"cant_delete_message", "compliance_exports_prevent_deletion"})
"""``chat.delete`` answers for a message the bot may not delete (not its own; the
workspace's compliance exports forbid it)."""


class SlackPlatform:
    """The bot user in ``channels`` (default: ``section.channel_id``).

    Socket Mode when ``app_token`` is set (no public URL needed); otherwise HTTP mode on
    ``web_app`` (``POST /slack/events``, ``POST /slack/interactivity``), signed with
    ``signing_secret``; either way one receiver for all channels. ``pacer`` defaults to
    one post per second per channel.
    """

    name = "slack"
    capabilities = Capabilities(
        paced=True, combine_waiting=10, reactions=True, ephemeral=True, redaction=True
    )
    """Paced at one post per second per channel, so customer lines queue up faster than
    they can be posted: up to 10 waiting lines share a post (``bot.batching``). A bot token
    deletes only the bot's own messages: agents' replies stay (``redacts_others`` False)."""

    def __init__(
        self,
        section: SlackSection,
        *,
        texts: Texts,
        web_app: web.Application | None = None,
        pacer: ChannelPacer | None = None,
        timeout: float = 15.0,
        alerts_channel: str = "",
        templates: TemplateChoices | None = None,
        channels: Sequence[str] = (),
        alerts_channels: Sequence[str] = (),
    ) -> None:
        """``channels``: every channel a number's threads are in (``[slack] channel_id``
        joins them when set). ``alerts_channels``: the numbers' on-call channels
        (``[[numbers]] alerts_room``): like ``alerts_channel``, the bot's membership is
        checked at start (a warning: customers are served without it), their exposure not
        (alerts carry no customer content: they may be public).
        ``templates``: what the root card's **Send template** form offers."""
        self._section = section
        served = [section.channel_id, *channels] if section.channel_id else [*channels]
        if not served:
            raise PlatformError("Slack: no channel configured", retryable=False)
        self._channels = tuple(dict.fromkeys(served))
        self._channel = self._channels[0]
        """The channel of calls no conversation scoped (``bot.routing.chat_room``)."""
        self._ids = ChatIds(section.channel_id)
        self._alerts_channel = alerts_channel
        alerting = (alerts_channel, *alerts_channels) if alerts_channel else alerts_channels
        self._alerts_only = tuple(c for c in dict.fromkeys(alerting) if c not in self._channels)
        """Channels only alerts go to: the bot must be in them, nobody reads them for
        customer content."""
        self._foreign: set[str] = set()
        self._texts = texts
        base_url = section.api_base or DEFAULT_API_BASE
        # No SDK-level retries: a post retried inside the SDK after a dropped connection
        # could land twice unseen. The job queue retries, after looking for the first post.
        self._client = AsyncWebClient(
            token=section.bot_token.get_secret_value(),
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            timeout=int(timeout),
            retry_handlers=[],
        )
        self.pacer = pacer or ChannelPacer()
        self._ledger = PostLedger()
        self._directory = Directory(self._user_info)
        self._members = ChannelMembers(self._client)
        self._uploads = ThreadUploads(self._client, self._api)
        self._me: Identity | None = None
        self._on_event: AgentEventHandler | None = None
        self._receiver = Receiver(
            self._client,
            app_token=section.app_token.get_secret_value() or None,
            signing_secret=section.signing_secret.get_secret_value() or None,
            web_app=web_app,
            on_message=self._handle_message,
            on_action=self._handle_action,
            is_own=self._is_own,
        )
        if templates is not None:
            TemplateForm(
                self._client,
                templates,
                texts,
                channels=self._channels,
                ids=self._ids,
                directory=self._directory,
                is_member=self._members.contains,
                handler=lambda: self._on_event,
            ).register(self._receiver.app)

    async def fetch_file(self, file: AgentFile, spool: Spool, *, cap: int) -> SpooledFile:
        """An agent's shared file, with the bot token (``AgentFiles``; scope ``files:read``)."""
        token = self._section.bot_token.get_secret_value()
        api_base = self._section.api_base or DEFAULT_API_BASE
        return await attachments.fetch(token, api_base, file, spool, cap=cap)

    @property
    def mode(self) -> str:
        """``socket`` or ``http``."""
        return self._receiver.mode

    @property
    def identity(self) -> Identity | None:
        """The bot's user and bot ids once started."""
        return self._me

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, on_event: AgentEventHandler | None) -> None:
        """Check the token and the bot's membership of every channel, then connect (Socket
        Mode) or accept requests (HTTP mode); without ``on_event`` only the checks (a
        follower replica posts, its leader receives the events). Raises ``PlatformError``
        naming what an admin must fix, every channel the bot is not in at once."""
        self._open_session()
        auth = await self._api("auth.test", self._client.auth_test())
        self._me = Identity(
            user_id=str(auth.get("user_id", "")),
            bot_id=str(auth.get("bot_id", "")),
            channels=frozenset(self._channels),
        )
        outside = [channel for channel in self._channels if not await self._joined(channel)]
        if outside:
            raise PlatformError(
                f"Slack: the bot is not a member of channel {', '.join(outside)}; "
                "invite it there with /invite @<bot name>",
                retryable=False,
                code="not_in_channel",
            )
        for channel in self._alerts_only:
            if not await self._joined(channel):
                log.warning(
                    "slack: alerts go to channel %s, but the bot is not a member; invite it "
                    "there with /invite @<bot name>",
                    channel,
                )
        if on_event is None:
            return
        self._on_event = on_event
        await self._receiver.start()
        log.info("slack: serving channel %s (%s mode)", ", ".join(self._channels), self.mode)

    async def _joined(self, channel_id: str) -> bool:
        """Whether the bot is in the channel (a private channel it is not in is not found);
        warns when people beyond the team could read a channel of customer threads."""
        try:
            info = await self._api(
                "conversations.info", self._client.conversations_info(channel=channel_id)
            )
        except PlatformError as exc:
            if exc.code == "channel_not_found":
                return False
            raise
        channel = info.get("channel") or {}
        exposed = exposure(channel, channel_id) if channel_id in self._channels else None
        if exposed:
            key = "slack.channel_id" if channel_id == self._section.channel_id else channel_id
            log.warning("slack: %s: %s (as check-config --online would say)", key, exposed)
        return bool(channel.get("is_member"))

    async def stop(self) -> None:
        await self._receiver.stop()
        self._on_event = None
        session, self._client.session = self._client.session, None
        if session is not None:
            await session.close()

    def _open_session(self) -> None:
        """One HTTP session, its connections kept alive, for every Web API call: without
        one slack_sdk opens a session and a TCP connection per call (3,000 connections for
        3,000 posts; sharing one cut Python calls per relayed message by 23 %)."""
        if self._client.session is None or self._client.session.closed:
            self._client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._client.timeout),
                trust_env=False,  # as slack_sdk's own sessions: no proxy from the environment
            )

    # -- incoming -----------------------------------------------------------------------------

    async def _handle_message(self, event: dict[str, Any]) -> None:
        if self._me is None or self._on_event is None:
            raise PlatformError("Slack event before start")  # no ack: Slack redelivers
        self._note_foreign(event)
        if event.get("type") in reactions.REACTION_EVENTS:
            await self._handle_reaction(event)
            return
        parsed = parse_message(event, self._me)
        if parsed is None:
            return
        if any(attachments.stub_id(file) for file in parsed.files):
            parsed = replace(parsed, files=await self._completed(parsed.files))
        await self._on_event(await to_agent_message(parsed, self._directory, self._ids))

    def _note_foreign(self, event: dict[str, Any]) -> None:
        """Events from a channel no number is routed to (the bot was invited elsewhere,
        the alerts channel) are ignored; said once per channel, without content."""
        item = event.get("item")
        channel = event.get("channel") or (item.get("channel") if isinstance(item, dict) else None)
        foreign = isinstance(channel, str) and channel not in self._channels
        if foreign and channel not in self._foreign:
            self._foreign.add(str(channel))
            log.info(
                "slack: events from channel %s ignored: no number is routed there",
                inbound.shown(channel),
            )

    async def _completed(self, files: Sequence[AgentFile]) -> tuple[AgentFile, ...]:
        """Stubs completed with ``files.info`` (scope ``files:read``), so the relay sees
        each file's name, type and size; a stub Slack will not complete stays one, and is
        explained as not fetched."""
        found = []
        for file in files:
            file_id = attachments.stub_id(file)
            if file_id is not None:
                try:
                    info = await self._api("files.info", self._client.files_info(file=file_id))
                except PlatformError as error:
                    log.warning("slack: files.info failed for a shared file (%s)", error)
                else:
                    entry = info.get("file")
                    file = attachments.agent_file(entry) if isinstance(entry, dict) else file
            found.append(file)
        return tuple(found)

    async def _handle_reaction(self, event: dict[str, Any]) -> None:
        """An agent's reaction, for the relay to send on (``bot.mirror``). Anyone who can
        see a public channel can react, so membership is looked up as for buttons."""
        assert self._me is not None and self._on_event is not None
        parsed = reactions.parse_reaction(event, self._channels)
        if parsed is None:
            return
        user = parsed.user_id
        await self._on_event(
            AgentReaction(
                room_id=parsed.channel_id,
                reaction_id=self._ids.of(parsed.channel_id, parsed.reaction_id),
                target_id=ChatMessageId(self._ids.of(parsed.channel_id, parsed.target_id)),
                emoji=reactions.emoji_for(parsed.name),
                name=f":{parsed.name}:",
                removed=parsed.removed,
                author_id=user,
                author_name=await self._directory.name(user),
                author_is_self=user == self._me.user_id,
                author_is_member=await self._members.contains(parsed.channel_id, user),
            )
        )

    async def _handle_action(self, body: dict[str, Any]) -> str | None:
        """A button press, for the relay to judge; its answer goes to the presser only."""
        if self._me is None or self._on_event is None:
            raise PlatformError("Slack action before start")
        parsed = parse_action(body, self._me)
        if parsed is None:
            return None
        return await self._on_event(
            await to_agent_action(parsed, self._directory, self._members.contains, self._ids)
        )

    async def _user_info(self, user_id: str) -> dict[str, Any] | None:
        try:
            response = await self._client.users_info(user=user_id)
        except errors.SLACK_ERRORS as exc:
            log.warning("slack: users.info failed (%s)", errors.from_exception("users.info", exc))
            return None
        user = response.get("user")
        return user if isinstance(user, dict) else None

    # -- outgoing -----------------------------------------------------------------------------

    async def _api(self, method: str, call: Any) -> dict[str, Any]:
        """Await a Web API call; every failure becomes a ``PlatformError``."""
        with errors.translated(method):
            response = await call
        data = response.data
        return data if isinstance(data, dict) else {}

    def _room(self) -> str:
        """The channel a new post goes to: the conversation's (scoped by the core), else
        ``[slack] channel_id``."""
        return chat_room(self._channel)

    def _at(self, chat_id: str) -> Located:
        """Where a thread or post the core names is (``chat_ids``; a plain ``ts`` in the
        scoped channel)."""
        return self._ids.locate(chat_id, self._room())

    async def ready_to_post(self, thread_id: ThreadId) -> bool:
        """Wait for the channel's posting slot before the relay decides which waiting
        customer lines go into the post."""
        return await self.pacer.ready(self._at(thread_id).channel)

    async def open_thread(self, root: ThreadRoot, *, key: str) -> ThreadId:
        channel = self._room()
        ts = await self._post(
            (channel, ROOTS),
            key,
            text=blocks.root_text(root),
            blocks=blocks.root_blocks(root, self._texts),
        )
        self._ledger.mark_complete((channel, ts))  # a thread we just opened: all its posts
        return ThreadId(self._ids.of(channel, ts))

    async def update_root(self, thread_id: ThreadId, root: ThreadRoot, *, key: str) -> None:
        thread = self._at(thread_id)
        await self._api(
            "chat.update",
            self._client.chat_update(
                channel=thread.channel,
                ts=thread.ts,
                text=blocks.root_text(root),
                blocks=blocks.root_blocks(root, self._texts),
            ),
        )

    async def post(self, thread_id: ThreadId, text: str, *, key: str) -> ChatMessageId:
        return await self._reply(thread_id, key, _clip(blocks.escape(text)))

    async def _reply(self, thread_id: ThreadId, key: str, text: str) -> ChatMessageId:
        thread = self._at(thread_id)
        ts = await self._post((thread.channel, thread.ts), key, text=text, thread_ts=thread.ts)
        return ChatMessageId(self._ids.of(thread.channel, ts))

    async def post_file(
        self, thread_id: ThreadId, file: ChatFile, *, key: str, journal: UploadJournal
    ) -> ChatMessageId:
        """Files v2 into the thread (``adapters.slack.files``); the journal, not the key,
        keeps a retry from sharing the file twice. The file id names the post (unique in
        the workspace)."""
        thread = self._at(thread_id)
        return await self._uploads.post(thread.channel, ThreadId(thread.ts), file, journal)

    # -- mirroring (``bot.mirror``) -----------------------------------------------------------

    async def post_reply(
        self, thread_id: ThreadId, text: str, *, reply_to: ChatMessageId, key: str
    ) -> ChatMessageId:
        """Slack threads have no quote replies (``quote_replies`` is off: the relay quotes
        the first line in the text); a plain post."""
        return await self.post(thread_id, text, key=key)

    async def react(self, chat_id: ChatMessageId, emoji: str, *, key: str) -> StatusRef | None:
        """None for an emoji without a known name, one Slack refuses, or one a status mark
        uses (removing the customer's reaction later would take the mark)."""
        name = reactions.name_for(emoji)
        if name is None or name in blocks.STATUS_EMOJI.values():
            return None
        try:
            await self._reaction("add", self._at(chat_id), name)
        except PlatformError as exc:
            if exc.code != "invalid_name":
                raise
            return None
        return StatusRef(name)

    async def unreact(self, chat_id: ChatMessageId, ref: StatusRef, *, key: str) -> None:
        await self._reaction("remove", self._at(chat_id), ref)

    async def replace(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> None:
        post = self._at(chat_id)
        await self._api(
            "chat.update",
            self._client.chat_update(
                channel=post.channel, ts=post.ts, text=_clip(blocks.escape(text))
            ),
        )

    async def retract(
        self, thread_id: ThreadId, chat_id: ChatMessageId, text: str, *, key: str
    ) -> ChatMessageId:
        """``chat.update``: Slack shows no earlier versions of an edited message."""
        await self.replace(thread_id, chat_id, text, key=key)
        return chat_id

    async def alert(self, text: str, *, thread_id: ThreadId | None, key: str) -> ChatMessageId:
        """In the thread; without one in the room the core scoped (the number's on-call
        room), else the alerts channel (``[alerts] room``), else at the top of the support
        channel. On-call mentions (``<!subteam^…>``, ``<@U…>``) stay live."""
        body = _clip(blocks.escape_keeping_mentions(text))
        if thread_id is not None:
            return await self._reply(thread_id, key, body)
        channel = chat_room(self._alerts_channel or self._channel)
        ts = await self._post((channel, ROOTS), key, text=body)
        return ChatMessageId(self._ids.of(channel, ts))

    async def private_room(self, user_id: str, *, key: str) -> str:
        """Slack shows private texts as ephemeral messages in the thread: no room."""
        raise PlatformError("Slack has no private rooms; texts are ephemeral", retryable=False)

    async def show_privately(
        self, thread_id: ThreadId, user_id: str, text: str, *, room_id: str | None, key: str
    ) -> PrivateRef | None:
        """``chat.postEphemeral`` in the thread: only ``user_id`` sees it, Slack keeps no
        copy (it is gone when their client reloads), so there is nothing to withdraw. Not
        paced: ephemeral messages do not count against the channel's posting rate."""
        thread = self._at(thread_id)
        await self._api(
            "chat.postEphemeral",
            self._client.chat_postEphemeral(
                channel=thread.channel, user=user_id, text=_clip(text), thread_ts=thread.ts
            ),
        )
        return None

    async def withdraw(self, ref: PrivateRef, *, key: str) -> None:
        """Ephemeral messages vanish by themselves: :meth:`show_privately` returns no ref."""

    async def remove_thread(self, thread_id: ThreadId, notice: str, *, key: str) -> Removal:
        """``chat.delete`` of the bot's replies (``files.delete`` of the customers' files
        they share), then the root's card replaced by ``notice``
        (deleting a root with replies left would leave Slack's tombstone, saying nothing).
        Agents' replies are counted as kept: a bot token cannot delete them; the bot's own
        reactions on them (delivery marks) are removed. Not paced: ``chat.delete`` is a
        Tier 3 method with its own limit, answered with a 429."""
        removed = kept = 0
        thread = self._at(thread_id)
        scope = (thread.channel, thread.ts)
        for message in [message async for message in self._messages(scope, REMOVE_PAGES)]:
            if message.get("ts") == thread.ts:
                continue
            post = Located(thread.channel, str(message.get("ts")))
            if self._is_own(message) and await self._delete_shared(message, post):
                removed += 1
                continue
            kept += 1
            for name in self._own_reactions(message):
                await self._unmark(post, StatusRef(name))
        try:
            await self._api(
                "chat.update",
                self._client.chat_update(
                    channel=thread.channel,
                    ts=thread.ts,
                    text=blocks.escape(notice),
                    blocks=blocks.notice_blocks(notice),
                ),
            )
        except PlatformError as exc:
            if exc.code != "message_not_found":
                raise
            return Removal(removed=removed, kept=kept)  # the root is gone already
        return Removal(removed=removed + 1, kept=kept)

    async def remove_posts(self, posts: Sequence[PostRef], *, reason: str, key: str) -> Removal:
        """``chat.delete`` of the bot's posts (with their reactions); agents' posts stay,
        counted as kept, without the bot's delivery mark. A combined post (several
        customer lines, ``bot.batching``) is one post; a customer's file (``post.file``)
        goes by ``files.delete``, its share with it. ``reason``: Slack shows none."""
        removed = kept = 0
        for post in posts:
            if post.file is not None:
                deleted = await self._uploads.delete(post.file)
                removed, kept = removed + deleted, kept + (not deleted)
                continue
            at = self._at(post.chat_id)
            if post.by_bot and await self._delete(at):
                removed += 1
                continue
            kept += 1
            for mark in post.marks:
                await self._unmark(at, mark)
        return Removal(removed=removed, kept=kept)

    async def _delete(self, post: Located) -> bool:
        """``chat.delete``; False when Slack refuses (not the bot's, compliance exports).
        A message already gone counts as deleted."""
        try:
            await self._api(
                "chat.delete", self._client.chat_delete(channel=post.channel, ts=post.ts)
            )
        except PlatformError as exc:
            if exc.code in UNDELETABLE:
                return False
            if exc.code != "message_not_found":
                raise
        return True

    async def _delete_shared(self, message: dict[str, Any], post: Located) -> bool:
        """The bot's post, and first the files it shares (a customer's files): deleting
        the message alone would leave them reachable by their ``url_private``."""
        for shared in message.get("files") or []:
            if isinstance(shared, dict) and shared.get("id"):
                await self._uploads.delete(str(shared["id"]))
        return await self._delete(post)

    async def _unmark(self, post: Located, name: StatusRef) -> None:
        """Remove the bot's reaction ``name``; a message or mark gone counts as done."""
        try:
            await self._reaction("remove", post, name)
        except PlatformError as exc:
            if exc.code != "message_not_found":
                raise

    def _own_reactions(self, message: dict[str, Any]) -> list[str]:
        me = self._me
        if me is None:
            return []
        return [
            str(reaction.get("name"))
            for reaction in message.get("reactions") or []
            if isinstance(reaction, dict) and me.user_id in (reaction.get("users") or [])
        ]

    async def set_status(
        self,
        thread_id: ThreadId,
        chat_id: ChatMessageId,
        status: DeliveryStatus,
        *,
        previous: StatusRef | None,
        key: str,
    ) -> StatusRef | None:
        """Add the new reaction, then remove the previous one (never no mark). Repeating
        either step is harmless: ``already_reacted`` and ``no_reaction`` count as done.
        The reaction's name is the ref."""
        name = StatusRef(blocks.STATUS_EMOJI[status])
        if previous == name:
            return name
        post = self._at(chat_id)
        try:
            await self._reaction("add", post, name)
            if previous:
                await self._reaction("remove", post, previous)
        except PlatformError as exc:
            if exc.code != "message_not_found":
                raise
            log.info("slack: message %s is gone; status %s not shown", chat_id, status.value)
            return None
        return name

    async def _reaction(self, verb: str, post: Located, name: str) -> None:
        method = f"reactions.{verb}"
        call = self._client.reactions_add if verb == "add" else self._client.reactions_remove
        try:
            await self._api(method, call(channel=post.channel, name=name, timestamp=post.ts))
        except PlatformError as exc:
            if exc.code not in ("already_reacted", "no_reaction"):
                raise

    # -- idempotent, paced posting ------------------------------------------------------------

    async def _post(self, scope: Scope, key: str, **args: Any) -> ChatMessageId:
        """Post into ``scope``'s channel unless an earlier attempt did; paced per channel."""
        channel = scope[0]
        earlier = await self._earlier_post(scope, key)
        if earlier is not None:
            log.info("slack: post %s found from an earlier attempt; not posted again", key)
            return earlier
        await self.pacer.take(channel)
        try:
            response = await self._client.chat_postMessage(
                channel=channel,
                metadata=blocks.metadata(key),
                unfurl_links=False,
                unfurl_media=False,
                **args,
            )
        except errors.SLACK_ERRORS as exc:
            error = errors.from_exception("chat.postMessage", exc)
            if error.code == "ratelimited" and error.retry_after is not None:
                self.pacer.hold(channel, error.retry_after)
            if errors.outcome_unknown(exc):
                self._ledger.mark_uncertain(scope)
            raise error from exc
        ts = ChatMessageId(str(response["ts"]))
        self._ledger.remember(channel, key, ts)
        return ts

    async def _earlier_post(self, scope: Scope, key: str) -> ChatMessageId | None:
        channel = scope[0]
        found = self._ledger.get(channel, key)
        if found is not None or self._ledger.is_complete(scope):
            return found
        async with self._ledger.lock(scope):
            if not self._ledger.is_complete(scope):
                await self._scan(scope)
                self._ledger.mark_complete(scope)
        return self._ledger.get(channel, key)

    async def _scan(self, scope: Scope) -> None:
        """Learn the keys of the bot's posts in a thread (all of it) or among the channel's
        latest 200 messages (roots: a retry follows its first attempt closely)."""
        channel, thread = scope
        async for message in self._messages(scope, SCAN_PAGES if thread != ROOTS else 1):
            if self._is_own(message):
                key = blocks.metadata_key(message)
                if key is not None:
                    self._ledger.remember(channel, key, ChatMessageId(str(message.get("ts"))))

    async def _messages(self, scope: Scope, pages: int) -> AsyncIterator[dict[str, Any]]:
        """A thread's messages, root first (``scope`` names its channel and ts), or the
        channel's latest (``ROOTS``), up to ``pages`` pages of 200; a thread that is gone
        has none."""
        channel, thread = scope
        cursor: str | None = None
        for _ in range(pages):
            args: dict[str, Any] = {
                "channel": channel,
                "include_all_metadata": True,
                "limit": 200,
            }
            if cursor:
                args["cursor"] = cursor
            method = "conversations.history" if thread == ROOTS else "conversations.replies"
            try:
                with errors.translated(method):
                    if thread == ROOTS:
                        page = await self._client.conversations_history(**args)
                    else:
                        page = await self._client.conversations_replies(ts=thread, **args)
            except PlatformError as exc:
                if exc.code == "thread_not_found":
                    return
                raise
            for message in page.get("messages") or []:
                if isinstance(message, dict):
                    yield message
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return

    def _is_own(self, message: dict[str, Any]) -> bool:
        me = self._me
        if me is None:
            return False
        return message.get("bot_id") == me.bot_id or message.get("user") == me.user_id


def _clip(text: str) -> str:
    return text if len(text) <= MAX_POST_CHARS else text[: MAX_POST_CHARS - 1] + "…"
