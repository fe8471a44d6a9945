"""What a customer does to earlier messages, shown on those messages in the thread.

A reaction becomes a reaction on the post it is about (and goes when the customer takes it
back); a reply is shown as the answer to the post it quotes; an edit changes the post; a
delete removes the post's content from the chat for good and blanks the stored text (a
customer's file goes with its post, ``bot.store.media_posts``). Where
the earlier message is not in the chat (sent before Empfang, purged, never posted), a line
says what happened instead, as before mirroring.

Store first, chat second: the stored text is blanked in the transaction before the chat is
touched, so a failing chat call (retried by the job) never leaves a deleted text stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import batching, render
from bot.config import PrivacySection
from bot.domain import InboundMessage, MessageKind, Sender
from bot.ids import ChatMessageId, ProviderMessageId, ThreadId, WaId
from bot.ports import ChatPlatform
from bot.store import Store, Tx
from bot.store.contacts import ContactRow
from bot.store.messages import MessageRow, stored_body
from bot.store.mirror import MirrorRows
from bot.texts import Texts

QUOTE_CHARS = 80
"""How much of a quoted post's first line a reply shows where the chat cannot link it."""
_PLACEHOLDER = Sender(wa_id=WaId("0"))


def base_post(chat_id: ChatMessageId) -> ChatMessageId:
    """The chat post a message is shown in (combined lines carry ``<post>#<n>``)."""
    return ChatMessageId(chat_id.split("#", 1)[0])


def relation_chat_id(post: ChatMessageId, kind: str, message_id: int) -> ChatMessageId:
    """What a reaction, edit or delete records as its chat id: it made no post of its own.
    ``~`` keeps it out of the ``<post>#<n>`` lines of :meth:`MirrorRows.sharing_post`."""
    return ChatMessageId(f"{post}~{kind}-{message_id}")


@dataclass(frozen=True)
class Quote:
    """The post a customer's reply answers, and its first line (masked)."""

    post: ChatMessageId
    text: str


class CustomerMirror:
    """Customer reactions, replies, edits and deletes → the thread (``relay.inbound``)."""

    def __init__(
        self,
        store: Store,
        chat: ChatPlatform,
        privacy: PrivacySection,
        texts: Texts,
    ) -> None:
        self._store = store
        self._chat = chat
        self._privacy = privacy
        self._texts = texts

    # -- new lines, with what they reply to ---------------------------------------------------

    async def post(
        self,
        thread_id: ThreadId,
        messages: Sequence[InboundMessage],
        lines: Sequence[str],
        contact: ContactRow,
        *,
        key: str,
    ) -> ChatMessageId:
        """Post customer lines; a reply is linked to the post it answers (one line on a
        platform with ``quote_replies``), else that post's first line is quoted above it."""
        quotes: dict[ProviderMessageId, Quote] = {}
        wanted = {m.context_id for m in messages if m.context_id is not None}
        if wanted:
            async with self._store.transaction() as tx:
                for provider_id in wanted:
                    quote = await self._quote(tx, provider_id, contact)
                    if quote is not None:
                        quotes[provider_id] = quote
        if not quotes:
            return await self._chat.post(thread_id, batching.combine(list(lines)), key=key)
        head = messages[0].context_id
        if self._chat.capabilities.quote_replies and len(messages) == 1 and head in quotes:
            reply_to = quotes[head].post
            return await self._chat.post_reply(thread_id, lines[0], reply_to=reply_to, key=key)
        quoted = [
            self._quoted(line, quotes.get(m.context_id) if m.context_id else None)
            for m, line in zip(messages, lines, strict=True)
        ]
        return await self._chat.post(thread_id, batching.combine(quoted), key=key)

    def _quoted(self, line: str, quote: Quote | None) -> str:
        if quote is None:
            return line
        return f"> {quote.text}\n{line}"  # a quote line in any language

    async def _quote(
        self, tx: Tx, provider_id: ProviderMessageId, contact: ContactRow
    ) -> Quote | None:
        target = await tx.messages.by_provider_id(provider_id)
        if target is None or target.contact_id != contact.id or target.chat_id is None:
            return None
        text = self._first_line(target, contact)
        return None if text is None else Quote(base_post(target.chat_id), text)

    def _first_line(self, row: MessageRow, contact: ContactRow) -> str | None:
        masker = render.Masker.for_contact(contact, self._privacy)
        if row.body is None:
            return None
        if row.direction == "in":
            whole = render.inbound(row.inbound(contact.sender), masker, self._texts)
        else:
            whole = masker.text(row.body)
        first = next((line.strip() for line in whole.splitlines() if line.strip()), "")
        return first if len(first) <= QUOTE_CHARS else first[: QUOTE_CHARS - 1] + "…"

    # -- reactions, edits and deletes ----------------------------------------------------------

    async def show(
        self, thread_id: ThreadId, row: MessageRow, contact: ContactRow, *, key: str
    ) -> ChatMessageId:
        """``relay.inbound`` for a reaction, edit or delete; returns the chat id to record."""
        message = row.inbound(contact.sender)
        target_id = message.reaction.message_id if message.reaction else message.target_id
        async with self._store.transaction() as tx:
            target = await tx.messages.by_provider_id(target_id) if target_id else None
            if target is not None and target.contact_id != contact.id:
                target = None  # never another customer's message
            if target is not None and message.kind is not MessageKind.REACTION:
                if target.direction != "in":
                    target = None  # customers edit and delete only their own messages
                else:
                    await self._rewrite(tx, message, target, contact)
        if target is None or target.chat_id is None:
            return await self._line(thread_id, message, contact, key=key)
        post = base_post(target.chat_id)
        if message.kind is MessageKind.REACTION:
            return await self._react(thread_id, row, message, target, contact, key=key)
        text = await self._render_post(post, contact)
        if message.kind is MessageKind.EDIT:
            await self._chat.replace(thread_id, post, text, key=key)
        else:
            shown = await self._chat.retract(thread_id, post, text, key=key)
            if shown != post:  # a new post took its place: later replies point there
                async with self._store.transaction() as tx:
                    await tx.messages.set_chat_id(target.id, shown)
            await self._remove_file(target, key=key)
        return relation_chat_id(post, row.kind, row.id)

    async def _remove_file(self, target: MessageRow, *, key: str) -> None:
        """The post showing the deleted message's file (``relay.media``) goes too. Its
        record is dropped only once it was removed, so a retried job removes it again
        (a repeat finds it gone); a platform without redaction keeps it."""
        async with self._store.transaction() as tx:
            files = await tx.media_posts.of([target.id])
        if not files or not self._chat.capabilities.redaction:
            return
        reason = self._texts.deleted_post
        await self._chat.remove_posts(files, reason=reason, key=f"{key}-file")
        async with self._store.transaction() as tx:
            await tx.media_posts.forget([target.id])

    async def _line(
        self, thread_id: ThreadId, message: InboundMessage, contact: ContactRow, *, key: str
    ) -> ChatMessageId:
        masker = render.Masker.for_contact(contact, self._privacy)
        text = render.inbound(message, masker, self._texts)
        return await self._chat.post(thread_id, text, key=key)

    async def _rewrite(
        self, tx: Tx, message: InboundMessage, target: MessageRow, contact: ContactRow
    ) -> None:
        """Apply an edit to the stored original, or blank a deleted one and its edits."""
        rows = MirrorRows(tx.conn)
        if message.kind is MessageKind.EDIT:
            if target.body is None or target.kind == MessageKind.REVOKE:
                return  # purged, or deleted already: an edit does not bring it back
            original = target.inbound(_PLACEHOLDER)
            await rows.rewrite(target.id, target.kind, stored_body(_edited(original, message)))
            return
        assert target.provider_id is not None
        blanked = [target, *await rows.edits_of(contact.id, target.provider_id)]
        for row in blanked:
            if row.provider_id is None or row.body is None:
                continue  # a purged body holds nothing to blank
            await rows.rewrite(row.id, MessageKind.REVOKE.value, stored_body(_deleted(row)))

    async def _render_post(self, post: ChatMessageId, contact: ContactRow) -> str:
        """A post's text again from the store (an edited or deleted line changed)."""
        async with self._store.transaction() as tx:
            rows = await MirrorRows(tx.conn).sharing_post(post)
            masker = render.Masker.for_contact(contact, self._privacy)
            shown = sorted(
                (row.inbound(contact.sender) for row in rows if row.body is not None),
                key=lambda message: message.timestamp,
            )
            lines = []
            for message in shown:
                line = render.inbound(message, masker, self._texts)
                quote = None
                if message.context_id and not self._chat.capabilities.quote_replies:
                    quote = await self._quote(tx, message.context_id, contact)
                lines.append(self._quoted(line, quote))
        return batching.combine(lines)

    async def _react(
        self,
        thread_id: ThreadId,
        row: MessageRow,
        message: InboundMessage,
        target: MessageRow,
        contact: ContactRow,
        *,
        key: str,
    ) -> ChatMessageId:
        """WhatsApp keeps one reaction per person and message: a new one replaces the one
        shown, an empty one removes it. An emoji the chat cannot show as a reaction (Slack
        without a name for it) becomes a line quoting the post."""
        assert message.reaction is not None and target.chat_id is not None
        post = base_post(target.chat_id)
        masker = render.Masker.for_contact(contact, self._privacy)
        emoji = masker.text(message.reaction.emoji)  # free text on the wire
        async with self._store.transaction() as tx:
            shown = await MirrorRows(tx.conn).shown_reaction(target.id)
        if shown is not None and shown.ref is not None:
            await self._chat.unreact(post, shown.ref, key=f"{key}:undo")
        done = relation_chat_id(post, row.kind, row.id)
        if not emoji:
            async with self._store.transaction() as tx:
                await MirrorRows(tx.conn).forget_reaction(target.id)
            if shown is not None and shown.ref is None:  # it was a line: so is its removal
                return await self._line(thread_id, message, contact, key=key)
            return done
        ref = await self._chat.react(post, emoji, key=key)
        if ref is None:
            quote = self._first_line(target, contact) or ""
            line = self._texts.reacted_to.format(emoji=emoji, quote=quote)
            done = await self._chat.post(thread_id, line, key=key)
        async with self._store.transaction() as tx:
            await MirrorRows(tx.conn).show_reaction(target.id, emoji, ref)
        return done


def _edited(original: InboundMessage, edit: InboundMessage) -> InboundMessage:
    """The original with the edit's new text (or caption) in place."""
    text = edit.text or ""
    if original.media is not None:
        media = original.media.model_copy(update={"caption": text or None})
        return original.model_copy(update={"media": media, "edited": True})
    return original.model_copy(update={"text": text, "edited": True})


def _deleted(row: MessageRow) -> InboundMessage:
    """What stays of a deleted message: that it existed, when, and nothing of its content."""
    assert row.provider_id is not None
    timestamp = row.inbound(_PLACEHOLDER).timestamp if row.body else int(row.created_at)
    return InboundMessage(
        provider_id=row.provider_id,
        sender=_PLACEHOLDER,
        timestamp=timestamp,
        kind=MessageKind.REVOKE,
        target_id=row.provider_id,
    )
