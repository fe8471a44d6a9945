"""The WhatsApp side of ``empfang run`` as configured: one provider per kind of number, the
router that sends through them, and one webhook endpoint per provider.

Every ``[[numbers]]`` entry (or the one implicit number) is answered by the provider its
``provider`` names. The Cloud API (or the sandbox standing in for it) is one app with one
access token for all its numbers; Twilio is one account for all its senders. When numbers of
both kinds are configured both endpoints are served (``/webhooks/whatsapp`` and
``/webhooks/twilio``), and each takes only its own numbers: a Twilio webhook for a Cloud
number is as foreign to it as one for a stranger's sender.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.twilio import provider as twilio
from adapters.whatsapp.cloud import CloudWhatsApp
from bot.config import Settings
from bot.config.numbers import Number
from bot.ports import TemplateProvider, WebhookReceiver
from bot.providers import NumberProvider, ProviderRouter, RoutedMediaIn, RoutedTemplates
from bot.web import CLOUD_ROUTE, WebhookRoute


@dataclass(frozen=True)
class Endpoint:
    """One provider's webhooks: who checks and parses them, and where they arrive."""

    receiver: WebhookReceiver
    route: WebhookRoute


@dataclass(frozen=True)
class WhatsAppSide:
    """What the composition root needs of WhatsApp: the router the relay sends through,
    the endpoints, and the templates (None without a Cloud account's catalogue, i.e.
    without ``[whatsapp] waba_id`` or without Cloud numbers)."""

    router: ProviderRouter
    endpoints: tuple[Endpoint, ...]
    templates: TemplateProvider | None


def build_whatsapp(settings: Settings) -> WhatsAppSide:
    numbers = settings.configured_numbers()
    on_twilio = [n.number_id for n in numbers if n.provider == "twilio"]
    on_cloud = [n for n in numbers if n.provider != "twilio"]
    cloud = _cloud(settings, on_cloud) if on_cloud else None
    account = (
        twilio.from_settings(settings.twilio, settings.server.public_url, on_twilio)
        if on_twilio
        else None
    )
    by_number: dict[str, NumberProvider] = {}
    for number in numbers:
        chosen = account if number.provider == "twilio" else cloud
        assert chosen is not None  # built above for every kind that has a number
        by_number[number.number_id] = chosen
    endpoints = []
    if cloud is not None:
        endpoints.append(Endpoint(cloud, CLOUD_ROUTE))
    if account is not None:
        endpoints.append(Endpoint(account, twilio.ROUTE))
    fallback = cloud or account
    assert fallback is not None  # at least the one implicit number
    media_in = RoutedMediaIn([account.media_in] if account else [], fallback.media_in)
    router = ProviderRouter(by_number, media_in=media_in)
    templates = None
    if cloud is not None and settings.whatsapp.waba_id:
        templates = RoutedTemplates(cloud, router)
    return WhatsAppSide(router, tuple(endpoints), templates)


def _cloud(settings: Settings, numbers: list[Number]) -> CloudWhatsApp:
    """The Graph API client for every Cloud (or sandbox) number: one app, one token. The
    numbers are of one kind (``check-config`` refuses cloud and sandbox numbers together),
    so a sandbox number finds the sandbox even where ``[whatsapp] provider`` is Twilio."""
    wa = settings.whatsapp
    kind = wa.model_copy(update={"provider": numbers[0].provider})
    ids = [number.number_id for number in numbers]
    return CloudWhatsApp(
        api_base=kind.resolved_api_base(settings.sandbox),
        phone_number_id=ids[0],
        numbers=ids,
        access_token=wa.access_token.get_secret_value(),
        app_secret=wa.app_secret.get_secret_value(),
        verify_token=wa.verify_token.get_secret_value(),
        timeout=wa.timeout_seconds,
        waba_id=wa.waba_id,
    )
