"""Platform-neutral domain objects.

Adapters translate wire formats into these and back; the relay and the store only ever see
these. They are pydantic models so the store can persist exactly these fields (the intake
allow-list) and nothing else of a provider payload.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.ids import ProviderMessageId, WaId

SERVICE_WINDOW_SECONDS = 24 * 3600.0
"""WhatsApp's customer service window: free text only this long after the customer wrote."""


class Frozen(BaseModel):
    """Immutable value object."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class MessageKind(StrEnum):
    """What a customer sent; the names follow the Cloud API's ``type`` values."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    REACTION = "reaction"
    ORDER = "order"
    EDIT = "edit"
    REVOKE = "revoke"
    SYSTEM = "system"
    REQUEST_WELCOME = "request_welcome"
    UNSUPPORTED = "unsupported"


RELATION_KINDS = frozenset({MessageKind.REACTION, MessageKind.EDIT, MessageKind.REVOKE})
"""Kinds that change an earlier message instead of adding a line (``bot.mirror``)."""


class DeliveryStatus(StrEnum):
    """Where an outbound message stands, as the agent's reaction shows it."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    DELIVERED = "delivered"
    READ = "read"

    @property
    def rank(self) -> int:
        """Statuses only move up: a late ``delivered`` never undoes ``read``.

        ``failed`` ranks above ``sent`` but below ``delivered``: with several devices one may
        fail while another receives, and a received message counts as received.
        """
        return _STATUS_RANK[self]


_STATUS_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.FAILED: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
}


class Sender(Frozen):
    """Who wrote. ``wa_id`` may be missing for username users; then ``user_id`` (BSUID) keys."""

    wa_id: WaId | None = None
    user_id: str | None = None
    profile_name: str | None = None

    @property
    def key(self) -> str:
        """The stable identity the contact is keyed and pseudonymised by."""
        key = self.wa_id or self.user_id
        if not key:
            raise ValueError("sender has neither wa_id nor user_id")
        return key


class Media(Frozen):
    """A reference to media held by the provider; the bytes are fetched only when posted."""

    media_id: str
    mime_type: str | None = None
    sha256: str | None = None
    filename: str | None = None
    caption: str | None = None
    voice: bool = False
    animated: bool = False
    url: str | None = None
    """The download URL newer webhooks carry (fact sheet §3); short-lived, like a lookup's."""


class Location(Frozen):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class SharedPhone(Frozen):
    number: str
    kind: str | None = None


class SharedContact(Frozen):
    """A contact card the customer shared: third-party data, only name and phones are kept."""

    name: str
    phones: tuple[SharedPhone, ...] = ()


class Choice(Frozen):
    """A tapped reply button, list row or template quick reply."""

    id: str
    title: str
    description: str | None = None


class Reaction(Frozen):
    """A customer's reaction; an empty emoji means it was removed."""

    message_id: ProviderMessageId
    emoji: str = ""


class CallPermission(Frozen):
    """The customer's answer to a call permission request (``call_permission_reply``)."""

    accepted: bool
    permanent: bool = False


class Referral(Frozen):
    """The click-to-WhatsApp ad the customer came from; the ad's own texts, not theirs."""

    headline: str | None = None
    source_url: str | None = None


class InboundMessage(Frozen):
    """One customer message, reduced to the fields Empfang needs (the intake allow-list)."""

    provider_id: ProviderMessageId
    sender: Sender
    timestamp: int
    kind: MessageKind
    text: str | None = None
    media: Media | None = None
    location: Location | None = None
    contacts: tuple[SharedContact, ...] = ()
    choice: Choice | None = None
    reaction: Reaction | None = None
    call_permission: CallPermission | None = None
    referral: Referral | None = None
    target_id: ProviderMessageId | None = None
    context_id: ProviderMessageId | None = None
    forwarded: bool = False
    edited: bool = False
    """The customer edited it later (``bot.mirror``): ``text`` or the caption is the new one."""
    unsupported_type: str | None = None
    error_code: int | None = None
    repaired: bool = False
    """Empfang changed what arrived: characters that cannot be stored (lone UTF-16
    surrogates, bytes that are not UTF-8) replaced by U+FFFD, or a timestamp out of range
    replaced by the receive time."""
    number_id: str = ""
    """The business number it was written to (Meta's ``phone_number_id``): its conversation
    is the customer's with that number, and replies leave from it. "" for messages stored
    before numbers were recorded, which belong to the first configured number."""


class StatusUpdate(Frozen):
    """A delivery receipt for a message we sent."""

    provider_message_id: ProviderMessageId
    status: DeliveryStatus
    timestamp: int
    error_code: int | None = None
    error_title: str | None = None


class UnsupportedEvent(Frozen):
    """A webhook change we do not understand; kept as a fact (field and digest), not content."""

    field: str
    digest: str


class BusinessEcho(Frozen):
    """A message the business sent from the WhatsApp Business app on the same number
    (``smb_message_echoes``, coexistence): agents see it in the thread as the business's
    reply. ``to`` is the customer's wa_id (the number lives in ``contacts`` only)."""

    provider_id: ProviderMessageId
    to: WaId
    timestamp: int
    kind: MessageKind
    text: str | None = None
    number_id: str = ""
    """The business number it was sent from (as ``InboundMessage.number_id``)."""


class ForeignChange(Frozen):
    """A webhook change for a business number that is not configured here (another number
    subscribed to the same Meta app): acknowledged and counted, never stored. ``number_id``
    is the provider's id of that business number ("" when the change named none)."""

    number_id: str
    messages: int = 0
    statuses: int = 0


class WebhookBatch(Frozen):
    """Everything one webhook delivery carried. ``foreign`` holds only counts of what was
    addressed to other business numbers; none of its content is kept."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    unsupported: tuple[UnsupportedEvent, ...] = ()
    echoes: tuple[BusinessEcho, ...] = ()
    foreign: tuple[ForeignChange, ...] = ()


class OutboundText(Frozen):
    """A text for the customer, optionally quoting one of their messages."""

    text: str
    reply_to: ProviderMessageId | None = None


class OutboundReaction(Frozen):
    """The business's reaction on one of the customer's messages; "" removes it."""

    message_id: ProviderMessageId
    emoji: str


class OutboundButtons(Frozen):
    """A question with reply buttons (``interactive`` of type ``button``); the customer's
    tap comes back as a ``button_reply`` with the option's title."""

    text: str
    options: tuple[str, ...]


class OutboundMedia(Frozen):
    """A file for the customer, uploaded to WhatsApp already (``media_id``). ``caption``
    only where WhatsApp takes one (image, video, document); ``filename`` for documents."""

    kind: Literal["image", "video", "audio", "document", "sticker"]
    media_id: str
    caption: str | None = None
    filename: str | None = None
