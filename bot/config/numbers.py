"""``[[numbers]]``: the business numbers one Empfang answers, each with its chat target.

Today's single-number configuration (``[whatsapp] phone_number_id`` or ``[twilio]
from_number``, ``[chat] platform`` and that platform's room or channel) is one implicit
entry; an explicit list replaces it. Every configured number is "ours": webhooks for any
other number are acknowledged and dropped (``bot.foreign_numbers``).

Validated here: each entry names its number the way its provider does (Meta's
``phone_number_id``, Twilio's ``from_number``), no number twice, and no room or channel
for two numbers unless each of them says ``shared = true``. Conversations are per number,
replies leave from the number written to and threads go to the number's room or channel
(``bot.routing``), on Matrix and Slack in one process when numbers use both
(``bot.chat_targets``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import model_validator

from bot.config.alerts import BusinessHoursSection
from bot.config.base import Section
from bot.config.twilio import SENDER

Provider = Literal["cloud", "sandbox", "twilio"]
Platform = Literal["matrix", "slack"]


class NumberEntry(Section):
    """One ``[[numbers]]`` table. Empty keys fall back to the global ones."""

    phone_number_id: str = ""
    """Meta's id of the number (provider ``cloud`` or ``sandbox``)."""
    from_number: str = ""
    """The Twilio sender, ``whatsapp:+…`` (provider ``twilio``)."""
    name: str = ""
    """Shown to agents, e.g. ``Werkstatt``."""
    provider: Provider | None = None
    platform: Platform | None = None
    room: str = ""
    """The Matrix room id or Slack channel id its conversations go to."""
    reply_mode: Literal["all", "explicit"] | None = None
    shared: bool = False
    """The room or channel may also be another number's (each of them must say so)."""
    alerts_room: str = ""
    """Where alerts about its conversations go besides the thread (a room or channel of
    its ``platform``); else ``[alerts] room``."""
    cases: list[str] | None = None
    """The ``[[cases]]`` sinks (by ``name``) its conversations go to; else every sink."""
    business_hours: BusinessHoursSection | None = None
    """``[numbers.business_hours]``: its own opening hours, out-of-hours reply and urgent
    keywords (the whole table, as ``[business_hours]``); else the global table."""

    @model_validator(mode="after")
    def _sender_shape(self) -> NumberEntry:
        if self.from_number and not SENDER.fullmatch(self.from_number):
            raise ValueError('from_number must be the WhatsApp sender as "whatsapp:+<digits>"')
        return self


@dataclass(frozen=True)
class Number:
    """An entry with every fallback applied; ``number_id`` is what webhooks name it by."""

    number_id: str
    provider: Provider
    platform: Platform
    room: str
    reply_mode: Literal["all", "explicit"]
    name: str = ""
    shared: bool = False
    alerts_room: str = ""
    business_hours: BusinessHoursSection | None = None
    """None: ``[business_hours]`` applies."""
    cases: tuple[str, ...] | None = None
    """The case sinks of its conversations; None: every one."""


@dataclass(frozen=True)
class Defaults:
    """The global keys an entry falls back to (``[whatsapp]``, ``[twilio]``, ``[chat]``,
    the platforms' rooms, ``[privacy] reply_mode``)."""

    provider: Provider
    phone_number_id: str
    from_number: str
    platform: Platform
    rooms: dict[str, str]
    reply_mode: Literal["all", "explicit"]


def resolve(entries: list[NumberEntry], defaults: Defaults) -> tuple[Number, ...]:
    """The numbers Empfang answers: the entries, or the one implicit entry without them."""
    if not entries:
        entries = [
            NumberEntry(phone_number_id=defaults.phone_number_id, from_number=defaults.from_number)
        ]
    resolved = []
    for entry in entries:
        provider = entry.provider or defaults.provider
        platform = entry.platform or defaults.platform
        twilio = provider == "twilio"
        resolved.append(
            Number(
                number_id=(entry.from_number if twilio else entry.phone_number_id)
                or (defaults.from_number if twilio else defaults.phone_number_id),
                provider=provider,
                platform=platform,
                room=entry.room or defaults.rooms.get(platform, ""),
                reply_mode=entry.reply_mode or defaults.reply_mode,
                name=entry.name,
                shared=entry.shared,
                alerts_room=entry.alerts_room,
                business_hours=entry.business_hours,
                cases=tuple(entry.cases) if entry.cases is not None else None,
            )
        )
    return tuple(resolved)


def problems(entries: list[NumberEntry], defaults: Defaults) -> list[str]:
    """What is wrong with ``[[numbers]]``, by key path (``numbers[1].room: …``)."""
    found: list[str] = []
    for index, entry in enumerate(entries):
        found += _entry_problems(index, entry, entry.provider or defaults.provider)
    numbers = resolve(entries, defaults)
    first_with_id: dict[str, int] = {}
    first_at_target: dict[tuple[str, str], int] = {}
    for index, number in enumerate(numbers):
        key = "from_number" if number.provider == "twilio" else "phone_number_id"
        if number.number_id in first_with_id:
            other = first_with_id[number.number_id]
            found.append(f"numbers[{index}].{key}: the same number as numbers[{other}]")
        first_with_id.setdefault(number.number_id, index)
        target = (number.platform, number.room)
        if target in first_at_target and number.room:
            other = first_at_target[target]
            if not (number.shared and numbers[other].shared):
                found.append(
                    f"numbers[{index}].room: also the {number.platform} target of "
                    f"numbers[{other}]; set shared = true on both to share it"
                )
        first_at_target.setdefault(target, index)
    return found


def _entry_problems(index: int, entry: NumberEntry, provider: Provider) -> list[str]:
    where = f"numbers[{index}]"
    if provider == "twilio":
        if entry.phone_number_id:
            return [f'{where}.phone_number_id: not used with provider "twilio" (from_number)']
        return [] if entry.from_number else [f'{where}.from_number: required for "twilio"']
    if entry.from_number:
        return [f'{where}.from_number: only for provider "twilio" (phone_number_id)']
    return [] if entry.phone_number_id else [f"{where}.phone_number_id: required"]
