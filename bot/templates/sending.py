"""Sending an approved template from a thread: ``!template <name> [<language>] <p1> | <p2>``
or Slack's form (:class:`~bot.ports.TemplateRequest`).

Everything is checked against the stored catalogue before anything is queued: name,
language, status, parameter count and format. A refusal is a text for the thread and no
request reaches WhatsApp. An accepted send is stored as the customer will read it, shown in
the thread (masked; its post carries the status marks, as an agent's reply does) and sent
by a durable job. A customer who objected (``bot.own_messages.may_write``) gets none.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot import render
from bot.config import PrivacySection
from bot.errors import ProviderError
from bot.ids import ProviderMessageId, WaId
from bot.job_catalog import (
    CHAT_STATUS,
    CHAT_TEMPLATE,
    RELAY_TEMPLATE,
    MessageJob,
    TemplateShownJob,
    enqueue,
)
from bot.own_messages import may_write
from bot.ports import ChatPlatform, TemplateProvider
from bot.store import Store, Tx
from bot.store.conversations import ConversationRow
from bot.store.jobs import Job
from bot.store.templates import Templates
from bot.templates.model import APPROVED, MAX_PARAMETER, MessageTemplate, cramped
from bot.texts import Texts

log = logging.getLogger("empfang.templates")

_STATUS_REFUSALS: dict[str, Callable[[Texts], str]] = {
    "PAUSED": lambda texts: texts.failure_template_paused,
    "DISABLED": lambda texts: texts.failure_template_disabled,
}
"""Statuses Meta would refuse a send for (132015, 132016), explained before sending."""


@dataclass(frozen=True)
class Wanted:
    """A send as the agent asked for it: template name, language if given, parameters."""

    name: str
    language: str | None
    parameters: list[str]


@dataclass(frozen=True)
class Asker:
    """Who asked, and which chat event asked (a repeated event sends nothing twice)."""

    request_id: str
    author_id: str
    author_name: str


def parse_command(argument: str, languages: set[str]) -> Wanted:
    """``<name> [<language>] <p1> | <p2> …``: the word after the name is the language if
    the template exists in it (``languages``, case-folded); parameters are separated by
    ``|`` and trimmed."""
    name, _, rest = argument.strip().partition(" ")
    rest = rest.strip()
    language = None
    word = re.split(r"[\s|]", rest, maxsplit=1)[0]
    if word and word.casefold() in languages:
        language = word
        rest = rest[len(word) :].strip().removeprefix("|").strip()  # "de | p1": no empty p0
    parameters = [part.strip() for part in rest.split("|")] if rest else []
    return Wanted(name=name.lower(), language=language, parameters=parameters)


def choose(named: list[MessageTemplate], wanted: Wanted, texts: Texts) -> MessageTemplate | str:
    """The template to send, or why not (a text for the thread). Pending and rejected
    templates count as unknown, as at Meta (132001)."""
    named = [t for t in named if t.status in (APPROVED, *_STATUS_REFUSALS)]
    if not named:
        return texts.template_unknown.format(name=wanted.name)
    languages = ", ".join(t.language for t in named)
    if wanted.language is not None:
        found = [t for t in named if t.language.casefold() == wanted.language.casefold()]
        if not found:
            return texts.template_language_unknown.format(
                name=wanted.name, language=wanted.language, languages=languages
            )
        template = found[0]
    elif len(named) == 1:
        template = named[0]
    else:
        return texts.template_language_choose.format(name=wanted.name, languages=languages)
    if template.status in _STATUS_REFUSALS:
        return _STATUS_REFUSALS[template.status](texts)
    if not template.sendable:
        return texts.template_unsendable.format(name=template.name)
    if len(wanted.parameters) != template.parameter_count:
        return texts.template_parameter_count.format(
            name=template.name,
            language=template.language,
            expected=template.parameter_count,
            given=len(wanted.parameters),
        )
    for index, parameter in enumerate(wanted.parameters, start=1):
        if not parameter or cramped(parameter):
            return texts.template_parameter_format.format(index=index)
        if len(parameter) > MAX_PARAMETER:
            return texts.template_parameter_long.format(index=index)
    return template


class TemplateSends:
    """Checks, queues, shows and sends templates; job handlers bound in ``bot.wiring``."""

    def __init__(
        self,
        store: Store,
        chat: ChatPlatform,
        provider: TemplateProvider | None,
        privacy: PrivacySection,
        texts: Texts,
        key: Callable[[str], str],
    ) -> None:
        self._store = store
        self._chat = chat
        self._provider = provider
        self._privacy = privacy
        self._texts = texts
        self._key = key

    async def command(
        self, tx: Tx, conversation: ConversationRow, argument: str, asker: Asker
    ) -> str | None:
        """``!template …``: queue the send, or return why not."""
        name = argument.strip().partition(" ")[0].lower()
        named = await Templates(tx.conn).named(name) if name else []
        wanted = parse_command(argument, {t.language.casefold() for t in named})
        return await self.queue(tx, conversation, wanted, asker, named)

    async def queue(
        self,
        tx: Tx,
        conversation: ConversationRow,
        wanted: Wanted,
        asker: Asker,
        named: list[MessageTemplate] | None = None,
    ) -> str | None:
        """Check ``wanted`` against the catalogue and the customer's objection; queue it.
        Returns a refusal for the thread, or None (queued, or asked before)."""
        store = Templates(tx.conn)
        if await store.requested(asker.request_id):
            return None  # the chat delivered this request before
        if not self.sends_from(conversation.number_id):
            return self._texts.template_not_from_this_number
        if named is None:
            named = await store.named(wanted.name)
        chosen = choose(named, wanted, self._texts)
        if isinstance(chosen, str):
            return chosen
        contact = await tx.contacts.get(conversation.contact_id)
        if contact is None or not may_write(contact):
            return self._texts.template_objected
        message_id = await tx.messages.insert_outbound(
            contact_id=conversation.contact_id,
            conversation_id=conversation.id,
            chat_id=None,
            body=chosen.render(wanted.parameters),
            author=asker.author_id,
            now=tx.clock.now(),
            kind="template",
        )
        assert message_id is not None  # no chat id: nothing to be a duplicate of
        await store.queue_send(message_id, asker.request_id, chosen.message(wanted.parameters))
        contact_id = conversation.contact_id
        shown = TemplateShownJob(
            message_id=message_id,
            contact_id=contact_id,
            number_id=conversation.number_id,
            author=asker.author_name,
            name=chosen.name,
            language=chosen.language,
        )
        await enqueue(tx, CHAT_TEMPLATE, shown)
        send = MessageJob(
            message_id=message_id, contact_id=contact_id, number_id=conversation.number_id
        )
        await enqueue(tx, RELAY_TEMPLATE, send)
        await tx.conversations.touch_agent(conversation.id, tx.clock.now())
        log.info("template %s queued as message %d", chosen.name, message_id)
        return None

    def sends_from(self, number_id: str) -> bool:
        """Whether a template can leave from the business number (not from a Twilio one);
        without a provider the catalogue is empty, and ``!template`` says so."""
        return self._provider is None or self._provider.sends_from(number_id)

    async def show(self, job: Job, payload: TemplateShownJob) -> None:
        """``chat.template``: the template as the customer will read it, masked, in the
        thread; the post becomes the message's chat id, where its status marks go."""
        async with self._store.transaction() as tx:
            row = await tx.messages.get(payload.message_id)
            if row is None or row.conversation_id is None or row.chat_id is not None:
                return
            conversation = await tx.conversations.get(row.conversation_id)
            contact = await tx.contacts.get(row.contact_id)
        if conversation is None or conversation.thread_id is None or contact is None:
            return
        masker = render.Masker.for_contact(contact, self._privacy)
        text = self._texts.template_preview.format(
            name=payload.name,
            language=payload.language,
            author=payload.author,
            text=masker.text(row.body or ""),
        )
        chat_id = await self._chat.post(
            conversation.thread_id, text, key=self._key(f"template-{payload.message_id}")
        )
        async with self._store.transaction() as tx:
            await tx.messages.set_chat_id(payload.message_id, chat_id)
            status = MessageJob(
                message_id=payload.message_id,
                contact_id=row.contact_id,
                number_id=conversation.number_id,
            )
            await enqueue(tx, CHAT_STATUS, status)

    async def send(self, message_id: int, to: WaId) -> ProviderMessageId:
        """Send the queued template. Its parameters are forgotten once WhatsApp accepted or
        refused it for good: a crash right after that leaves the message unsendable (it
        fails with an explanation) rather than keeping what the agent typed."""
        async with self._store.transaction() as tx:
            message = await Templates(tx.conn).queued(message_id)
        if message is None or self._provider is None:
            raise ProviderError("the template send is no longer stored", retryable=False)
        try:
            provider_id = await self._provider.send_template(to, message)
        except ProviderError as error:
            if not error.retryable:
                await self._forget(message_id)
            raise
        await self._forget(message_id)
        return provider_id

    async def _forget(self, message_id: int) -> None:
        async with self._store.transaction() as tx:
            await Templates(tx.conn).done(message_id)
