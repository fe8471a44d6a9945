"""Sends routed to the provider of the number they leave from: Cloud API and Twilio numbers
side by side in one process (``[[numbers]] provider``).

The relay, the mirror, templates and agents' files send through one
:class:`~bot.ports.WhatsAppProvider` and scope each send to its conversation's number
(``bot.routing.sending_from``). :class:`ProviderRouter` is that one provider: it asks
:func:`bot.routing.sender` which number sends (refusing one no longer configured) and hands
the call to that number's provider, which sends from the same number. What one provider
cannot do (Twilio: reactions, files, templates) is refused by that provider itself, so the
thread shows the same explanation per number as in a process of one provider.

Webhooks are not routed here: each provider keeps its own endpoint (``bot.web``), and each
accepts only its own numbers (``WebhookBatch.foreign`` for the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from bot.domain import OutboundButtons, OutboundMedia, OutboundReaction, OutboundText
from bot.ids import ProviderMessageId, WaId
from bot.media.inbound import CustomerMediaSource, MediaInfo
from bot.media.outbound import WhatsAppMedia
from bot.media.spool import Spool, SpooledFile
from bot.ports import TemplateCatalogueSource, WhatsAppProvider
from bot.routing import sender
from bot.templates.model import MessageTemplate, TemplateMessage


class NumberProvider(WhatsAppProvider, Protocol):
    """One provider as the router needs it: sends, templates, files out and in."""

    sends_templates: bool
    """False where ``send_template`` only refuses (Twilio): ``!template`` is then refused
    before anything is queued."""

    async def send_template(self, to: WaId, message: TemplateMessage) -> ProviderMessageId: ...

    @property
    def media_out(self) -> WhatsAppMedia: ...

    @property
    def media_in(self) -> CustomerMediaSource: ...


class ClaimingMediaSource(CustomerMediaSource, Protocol):
    """A media source that recognises its own references (Twilio's media URLs name the
    account), so a customer's file is fetched with the credentials of the provider that
    delivered it."""

    def holds(self, reference: str) -> bool: ...


class ProviderRouter:
    """:class:`~bot.ports.WhatsAppProvider` over several providers, by the number a send
    leaves from (``by_number``, in configuration order: the first number sends what no
    conversation scopes)."""

    def __init__(
        self,
        by_number: Mapping[str, NumberProvider],
        *,
        media_in: CustomerMediaSource,
    ) -> None:
        """``media_in``: where customers' files are fetched (:class:`RoutedMediaIn`)."""
        if not by_number:
            raise ValueError("a router needs at least one number")
        self._by_number = dict(by_number)
        self._first = next(iter(self._by_number))
        self._media_in = media_in

    def _provider(self) -> NumberProvider:
        """The provider of the number this send leaves from (``bot.routing``)."""
        return self._by_number[sender(self._first, self._by_number)]

    def provider_of(self, number_id: str) -> NumberProvider | None:
        """The provider of a configured number ("": the first), None for any other."""
        return self._by_number.get(number_id or self._first)

    async def send_text(self, to: WaId, message: OutboundText) -> ProviderMessageId:
        return await self._provider().send_text(to, message)

    async def send_reaction(self, to: WaId, reaction: OutboundReaction) -> ProviderMessageId:
        return await self._provider().send_reaction(to, reaction)

    async def send_buttons(self, to: WaId, message: OutboundButtons) -> ProviderMessageId:
        return await self._provider().send_buttons(to, message)

    async def send_template(self, to: WaId, message: TemplateMessage) -> ProviderMessageId:
        return await self._provider().send_template(to, message)

    async def mark_read(self, provider_message_id: ProviderMessageId) -> None:
        await self._provider().mark_read(provider_message_id)

    @property
    def media_out(self) -> RoutedMediaOut:
        return RoutedMediaOut(lambda: self._provider().media_out)

    @property
    def media_in(self) -> CustomerMediaSource:
        return self._media_in

    async def aclose(self) -> None:
        """Close each provider once (several numbers share one)."""
        closed: set[int] = set()
        for provider in self._by_number.values():
            if id(provider) not in closed:
                closed.add(id(provider))
                await provider.aclose()


class RoutedTemplates:
    """:class:`~bot.ports.TemplateProvider`: the catalogue of the account that has one (the
    Cloud API's WhatsApp Business Account), sends through the router, so a Twilio number
    refuses a template in its own thread while the Cloud numbers send it."""

    def __init__(self, catalogue: TemplateCatalogueSource, router: ProviderRouter) -> None:
        self._catalogue = catalogue
        self._router = router

    async def message_templates(self) -> list[MessageTemplate]:
        return await self._catalogue.message_templates()

    def sends_from(self, number_id: str) -> bool:
        """A number no longer configured is let through: its send fails with that reason."""
        provider = self._router.provider_of(number_id)
        return provider is None or provider.sends_templates

    async def send_template(self, to: WaId, message: TemplateMessage) -> ProviderMessageId:
        return await self._router.send_template(to, message)


class RoutedMediaOut:
    """Agents' files through the sending number's provider: the upload and the send are
    both made within the conversation's ``sending_from`` scope."""

    def __init__(self, of_sender: Callable[[], WhatsAppMedia]) -> None:
        self._of_sender = of_sender

    async def upload(self, path: Path, *, mime_type: str, filename: str) -> str:
        return await self._of_sender().upload(path, mime_type=mime_type, filename=filename)

    async def send_media(self, to: WaId, media: OutboundMedia) -> ProviderMessageId:
        return await self._of_sender().send_media(to, media)


class RoutedMediaIn:
    """Customers' files, fetched by the provider whose reference it is: a source that holds
    the reference (Twilio's media URLs name the account), else ``fallback`` (the Cloud
    API's: its media ids carry no origin)."""

    def __init__(self, claiming: Sequence[ClaimingMediaSource], fallback: CustomerMediaSource):
        self._claiming = tuple(claiming)
        self._fallback = fallback

    def _source(self, reference: str) -> CustomerMediaSource:
        for source in self._claiming:
            if source.holds(reference):
                return source
        return self._fallback

    async def lookup(self, media_id: str) -> MediaInfo:
        return await self._source(media_id).lookup(media_id)

    async def download(self, info: MediaInfo, spool: Spool, *, cap: int) -> SpooledFile:
        return await self._source(info.url).download(info, spool, cap=cap)
