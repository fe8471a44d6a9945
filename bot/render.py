"""The ONE place that turns domain messages into chat text. Everything it returns is masked.

Chat adapters post these strings verbatim, so a number can only reach a chat post through a
bug here, and the tests scan every post for one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import privacy
from bot.config import PrivacySection
from bot.domain import (
    SERVICE_WINDOW_SECONDS,
    InboundMessage,
    MessageKind,
    Referral,
    SharedPhone,
)
from bot.media.names import mask_filename
from bot.ports import ThreadRoot
from bot.store.contacts import ContactRow
from bot.store.conversations import ConversationRow
from bot.texts import Texts

_MEDIA_LABEL: dict[MessageKind, Callable[[Texts], str]] = {
    MessageKind.IMAGE: lambda texts: texts.image,
    MessageKind.VIDEO: lambda texts: texts.video,
    MessageKind.DOCUMENT: lambda texts: texts.document,
    MessageKind.STICKER: lambda texts: texts.sticker,
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

    def text(self, text: str, *, every_digit_run: bool = False) -> str:
        return privacy.redact_text(
            text,
            sender_digits=self.sender_digits,
            region=self.region,
            visible_digits=self.visible_digits,
            extra_regions=self.extra_regions,
            every_digit_run=every_digit_run,
        )

    def identity(self, withheld: str) -> str:
        """The masked number, or ``withheld`` when the customer's number is unknown."""
        if not self.sender_digits:
            return withheld
        return privacy.mask_number(self.sender_digits, self.visible_digits)


def thread_root(
    conversation: ConversationRow,
    contact: ContactRow,
    settings: PrivacySection,
    texts: Texts,
    timezone: str = "UTC",
    now: float | None = None,
    number_name: str = "",
) -> ThreadRoot:
    """The root card; with ``now`` a window that has closed says so (``bot.templates``);
    ``number_name`` names the business number written to, where several share a room."""
    masker = Masker.for_contact(contact, settings)
    lines = [texts.root_number.format(name=number_name)] if number_name else []
    if settings.show_profile_name and contact.profile_name:
        lines.append(texts.root_profile_name.format(name=masker.text(contact.profile_name)))
    if not conversation.is_open:
        lines.append(texts.root_state_closed)
    elif conversation.claimed_by:
        lines.append(texts.root_state_claimed.format(agent=conversation.claimed_by))
    else:
        lines.append(texts.root_state_waiting)
    if conversation.is_open and conversation.last_customer_at:
        zone = ZoneInfo(timezone)
        closes = datetime.fromtimestamp(
            conversation.last_customer_at + SERVICE_WINDOW_SECONDS, zone
        )
        shown = f"{closes:%d.%m. %H:%M}"
        if now is not None and closes.timestamp() <= now:
            lines.append(texts.root_window_closed.format(closes=shown, zone=zone.key))
        else:
            lines.append(texts.root_window.format(closes=shown, zone=zone.key))
    if contact.objected_at is not None:  # bot.objection: agents must know before replying
        since = datetime.fromtimestamp(contact.objected_at, ZoneInfo(timezone))
        lines.append(texts.root_objected.format(since=f"{since:%d.%m. %H:%M}"))
    lines.append(texts.root_hint)
    return ThreadRoot(
        conversation_id=conversation.id,
        title=f"💬 {contact.pseudonym} · {masker.identity(texts.number_withheld)}",
        lines=tuple(lines),
        state="claimed" if conversation.is_open and conversation.claimed_by else conversation.state,
        claimed_by=conversation.claimed_by,
    )


def inbound(message: InboundMessage, masker: Masker, texts: Texts) -> str:
    """One customer message as a line in the thread."""
    text = _describe(message, masker, texts)
    text = texts.edited_post.format(text=text) if message.edited else text
    text = texts.forwarded.format(text=text) if message.forwarded else text
    if message.referral is not None:
        text = f"{_referral(message.referral, masker, texts)}\n{text}"
    return texts.repaired.format(text=text) if message.repaired else text


def _referral(referral: Referral, masker: Masker, texts: Texts) -> str:
    """The ad's headline and link; a link's digit runs are masked too (ids and numbers
    look alike there, and a number in an ad's URL is someone's)."""
    parts = [masker.text(referral.headline)] if referral.headline else []
    if referral.source_url:
        parts.append(masker.text(referral.source_url, every_digit_run=True))
    return texts.referral.format(ad=" · ".join(parts))


def sent_late(line: str, written_at: int, texts: Texts, timezone: str, now: float) -> str:
    """A customer line posted below lines the customer wrote after it (its webhook came
    late): its place in the thread no longer tells when it was written, so the line does."""
    zone = ZoneInfo(timezone)
    written = datetime.fromtimestamp(written_at, zone)
    same_day = written.date() == datetime.fromtimestamp(now, zone).date()
    return texts.sent_late.format(
        text=line, time=f"{written:%H:%M}" if same_day else f"{written:%d.%m. %H:%M}"
    )


def _caption(text: str | None, masker: Masker) -> str:
    return f": {masker.text(text)}" if text else ""


def _describe(message: InboundMessage, masker: Masker, texts: Texts) -> str:
    kind = message.kind
    media = message.media
    if kind is MessageKind.TEXT:
        return masker.text(message.text or "")
    if kind is MessageKind.AUDIO and media is not None:
        return texts.voice_message if media.voice else texts.audio_file
    if kind in _MEDIA_LABEL and media is not None:
        label = _MEDIA_LABEL[kind](texts)
        if media.filename:
            label += f" «{mask_filename(media.filename, masker)}»"
        return label + _caption(media.caption, masker)
    if kind is MessageKind.LOCATION and message.location is not None:
        return _location(message, masker, texts)
    if kind is MessageKind.CONTACTS:
        cards = "; ".join(
            _contact_card(card.name, card.phones, masker, texts) for card in message.contacts
        )
        return texts.contact_card.format(cards=cards)
    if message.call_permission is not None:
        if not message.call_permission.accepted:
            return texts.call_permission_declined
        if message.call_permission.permanent:
            return texts.call_permission_permanent
        return texts.call_permission_accepted
    if kind in (MessageKind.INTERACTIVE, MessageKind.BUTTON) and message.choice is not None:
        return texts.choice.format(title=masker.text(message.choice.title))
    if kind is MessageKind.REACTION and message.reaction is not None:
        if message.reaction.emoji:
            # Only an emoji in practice, but the payload field is free text.
            return texts.reacted.format(emoji=masker.text(message.reaction.emoji))
        return texts.reaction_removed
    if kind is MessageKind.ORDER:
        return texts.order.format(text=masker.text(message.text or ""))
    if kind is MessageKind.EDIT:
        return texts.edited.format(text=masker.text(message.text or ""))
    if kind is MessageKind.REVOKE:
        # ``bot.mirror`` blanks a deleted message by storing it as its own revocation.
        return texts.deleted_post if message.target_id == message.provider_id else texts.deleted
    if kind is MessageKind.SYSTEM:
        # WhatsApp's own notice ("User A changed from … to 49…"): numbers but no dates, and
        # a new number may be too new for libphonenumber to validate, so every run is masked.
        notice = message.text or texts.system_notice
        return f"ℹ️ {masker.text(notice, every_digit_run=True)}"
    if kind is MessageKind.REQUEST_WELCOME:
        return texts.opened_chat
    if message.unsupported_type:
        return texts.unsupported_type.format(type=masker.text(message.unsupported_type))
    return texts.unsupported


def _location(message: InboundMessage, masker: Masker, texts: Texts) -> str:
    """A label and a coarse position (two decimals ≈ 1 km); no map preview."""
    location = message.location
    assert location is not None
    label = ", ".join(masker.text(part) for part in (location.name, location.address) if part)
    where = f"≈ {location.latitude:.2f}, {location.longitude:.2f}"
    if label:
        return texts.location.format(label=label, where=where)
    return texts.location_unnamed.format(where=where)


def _contact_card(name: str, phones: tuple[SharedPhone, ...], masker: Masker, texts: Texts) -> str:
    numbers = ", ".join(_masked_phone(phone.number, masker, texts) for phone in phones)
    who = privacy.initials(name) or "?"
    return f"{who} ({numbers})" if numbers else who


def _masked_phone(number: str, masker: Masker, texts: Texts) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        return texts.no_number
    if number.strip().startswith("+") or number.strip().startswith("00"):
        return privacy.mask_number(digits.removeprefix("00"), masker.visible_digits)
    masked = masker.text(number)
    # A number the detector does not recognise is still never shown.
    return masked if masked != number else privacy.mask_number(digits, masker.visible_digits)
