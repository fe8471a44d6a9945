"""The ONE place that turns domain messages into chat text. Everything it returns is masked.

Chat adapters post these strings verbatim, so a number can only reach a chat post through a
bug here, and the tests scan every post for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import privacy
from bot.config import PrivacySection
from bot.domain import SERVICE_WINDOW_SECONDS, InboundMessage, MessageKind, SharedPhone
from bot.ports import ThreadRoot
from bot.store.contacts import ContactRow
from bot.store.conversations import ConversationRow

HELP_TEXT = (
    "Reply in this thread and your message goes to the customer on WhatsApp.\n"
    '• !send <text> — send (required when reply_mode is "explicit")\n'
    "• !note <text> — internal note, never sent\n"
    "• !close — close the conversation; the customer's next message opens a new thread\n"
    "• !case — show the linked case; !case <id> links an existing case\n"
    "• !help — this help\n"
    "Ticks on your message: ⏳ queued, ✓ sent, ✓✓ delivered, 👁 read, ❌ failed."
)

_MEDIA_LABEL = {
    MessageKind.IMAGE: "📷 Image",
    MessageKind.VIDEO: "🎬 Video",
    MessageKind.DOCUMENT: "📄 Document",
    MessageKind.STICKER: "🏷 Sticker",
}


@dataclass(frozen=True)
class Masker:
    """Masking bound to one customer: their own number is found in any format."""

    sender_digits: str | None
    region: str
    visible_digits: int
    extra_regions: tuple[str, ...] = ()

    @classmethod
    def for_contact(cls, contact: ContactRow, settings: PrivacySection) -> Masker:
        region = contact.region or settings.default_region
        extra = (settings.default_region,) if region != settings.default_region else ()
        return cls(contact.wa_id, region, settings.visible_digits, extra)

    def text(self, text: str) -> str:
        return privacy.redact_text(
            text,
            sender_digits=self.sender_digits,
            region=self.region,
            visible_digits=self.visible_digits,
            extra_regions=self.extra_regions,
        )

    def identity(self) -> str:
        if not self.sender_digits:
            return "number withheld"
        return privacy.mask_number(self.sender_digits, self.visible_digits)


def thread_root(
    conversation: ConversationRow,
    contact: ContactRow,
    settings: PrivacySection,
    timezone: str = "UTC",
) -> ThreadRoot:
    masker = Masker.for_contact(contact, settings)
    lines = []
    if settings.show_profile_name and contact.profile_name:
        lines.append(f"Name on WhatsApp: {masker.text(contact.profile_name)}")
    if not conversation.is_open:
        lines.append("State: closed")
    elif conversation.claimed_by:
        lines.append(f"State: open, handled by {conversation.claimed_by}")
    else:
        lines.append("State: open, waiting for an agent")
    if conversation.is_open and conversation.last_customer_at:
        zone = ZoneInfo(timezone)
        closes = datetime.fromtimestamp(
            conversation.last_customer_at + SERVICE_WINDOW_SECONDS, zone
        )
        lines.append(f"WhatsApp window open until {closes:%d.%m. %H:%M} ({zone.key})")
    lines.append("Reply in this thread to answer on WhatsApp; !help lists commands.")
    return ThreadRoot(
        conversation_id=conversation.id,
        title=f"💬 {contact.pseudonym} · {masker.identity()}",
        lines=tuple(lines),
        state="claimed" if conversation.is_open and conversation.claimed_by else conversation.state,
        claimed_by=conversation.claimed_by,
    )


def inbound(message: InboundMessage, masker: Masker) -> str:
    """One customer message as a line in the thread."""
    text = _describe(message, masker)
    return f"↪ Forwarded: {text}" if message.forwarded else text


def _caption(text: str | None, masker: Masker) -> str:
    return f": {masker.text(text)}" if text else ""


def _describe(message: InboundMessage, masker: Masker) -> str:
    kind = message.kind
    media = message.media
    if kind is MessageKind.TEXT:
        return masker.text(message.text or "")
    if kind is MessageKind.AUDIO and media is not None:
        return "🎤 Voice message" if media.voice else "🎵 Audio file"
    if kind in _MEDIA_LABEL and media is not None:
        label = _MEDIA_LABEL[kind]
        if media.filename:
            label += f" «{masker.text(media.filename)}»"
        return label + _caption(media.caption, masker)
    if kind is MessageKind.LOCATION and message.location is not None:
        return _location(message, masker)
    if kind is MessageKind.CONTACTS:
        cards = "; ".join(
            _contact_card(card.name, card.phones, masker) for card in message.contacts
        )
        return f"👤 Contact card: {cards}"
    if kind in (MessageKind.INTERACTIVE, MessageKind.BUTTON) and message.choice is not None:
        return f"🔘 Chose: {masker.text(message.choice.title)}"
    if kind is MessageKind.REACTION and message.reaction is not None:
        if message.reaction.emoji:
            return f"Customer reacted {message.reaction.emoji} to a message"
        return "Customer removed a reaction"
    if kind is MessageKind.ORDER:
        return f"🛒 Order: {masker.text(message.text or '')}"
    if kind is MessageKind.EDIT:
        return f"✏️ Customer edited a message: {masker.text(message.text or '')}"
    if kind is MessageKind.REVOKE:
        return "🗑 Customer deleted a message"
    if kind is MessageKind.SYSTEM:
        return f"ℹ️ {masker.text(message.text or 'System notice')}"
    if kind is MessageKind.REQUEST_WELCOME:
        return "👋 Customer opened the chat"
    what = f" ({message.unsupported_type})" if message.unsupported_type else ""
    return f"⚠️ Unsupported message{what}; WhatsApp did not pass on its content"


def _location(message: InboundMessage, masker: Masker) -> str:
    """A label and a coarse position (two decimals ≈ 1 km); no map preview."""
    location = message.location
    assert location is not None
    label = ", ".join(masker.text(part) for part in (location.name, location.address) if part)
    where = f"≈ {location.latitude:.2f}, {location.longitude:.2f}"
    return f"📍 Location: {label} ({where})" if label else f"📍 Location ({where})"


def _contact_card(name: str, phones: tuple[SharedPhone, ...], masker: Masker) -> str:
    numbers = ", ".join(_masked_phone(phone.number, masker) for phone in phones)
    who = privacy.initials(name) or "?"
    return f"{who} ({numbers})" if numbers else who


def _masked_phone(number: str, masker: Masker) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        return "no number"
    if number.strip().startswith("+") or number.strip().startswith("00"):
        return privacy.mask_number(digits.removeprefix("00"), masker.visible_digits)
    masked = masker.text(number)
    # A number the detector does not recognise is still never shown.
    return masked if masked != number else privacy.mask_number(digits, masker.visible_digits)
