"""Business hours: is it open now, and when does N seconds of open time end?

SLA timers are due after ``unanswered_after`` seconds of *open* time, so a message that
arrives Friday evening is due Monday morning, not at night.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.config.alerts import WEEKDAYS, BusinessHoursSection, parse_span
from bot.domain import InboundMessage

if TYPE_CHECKING:
    from holidays import HolidayBase

_HORIZON_DAYS = 400  # a year of closed days (and holidays) can't hide the next opening


def _public_holidays(section: BusinessHoursSection) -> HolidayBase | None:
    """The country's calendar; imported only when configured (the package takes ~0.3 s)."""
    if not section.holidays_country:
        return None
    from holidays import country_holidays

    return country_holidays(section.holidays_country, subdiv=section.holidays_subdivision or None)


class BusinessHours:
    def __init__(self, section: BusinessHoursSection) -> None:
        self._zone = ZoneInfo(section.timezone)
        self._always_open = not section.weekly
        self._weekly = {
            WEEKDAYS.index(day): sorted(parse_span(span) for span in spans)
            for day, spans in section.weekly.items()
        }
        self._holidays = set(section.holidays)
        self._public_holidays = _public_holidays(section)

    def _spans_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if self.is_holiday(day):
            return []
        midnight = datetime(day.year, day.month, day.day, tzinfo=self._zone)
        return [
            (midnight + timedelta(minutes=start), midnight + timedelta(minutes=end))
            for start, end in self._weekly.get(day.weekday(), [])
        ]

    def is_holiday(self, day: date) -> bool:
        """An explicit holiday, or a public one of the configured country and subdivision.

        The calendar computes each year on first use, so it never runs out like a list would.
        """
        if day in self._holidays:
            return True
        return self._public_holidays is not None and day in self._public_holidays

    def local_date(self, at: float) -> date:
        return datetime.fromtimestamp(at, self._zone).date()

    def is_open(self, at: float) -> bool:
        if self._always_open:
            return True
        moment = datetime.fromtimestamp(at, self._zone)
        return any(start <= moment < end for start, end in self._spans_on(moment.date()))

    def add_open_time(self, start: float, seconds: float) -> float:
        """The moment when ``seconds`` of open time have passed since ``start``."""
        if self._always_open:
            return start + seconds
        moment = datetime.fromtimestamp(start, self._zone)
        remaining = timedelta(seconds=seconds)
        day = moment.date()
        for _ in range(_HORIZON_DAYS):
            for span_start, span_end in self._spans_on(day):
                begin = max(span_start, moment)
                if begin >= span_end:
                    continue
                available = span_end - begin
                if remaining <= available:
                    return (begin + remaining).timestamp()
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("business_hours: no opening within a year; check weekly and holidays")


class Schedule:
    """What on-call reads from one ``[business_hours]`` table (the global one, or a
    number's own): the hours, their time zone, the out-of-hours reply, urgent keywords."""

    def __init__(self, section: BusinessHoursSection) -> None:
        self.hours = BusinessHours(section)
        self.zone = ZoneInfo(section.timezone)
        self.out_of_hours_reply = section.out_of_hours_reply
        self._urgent = tuple(word.lower() for word in section.urgent_keywords if word.strip())

    def is_urgent(self, stored_body: str) -> bool:
        """Whether a stored customer message's text or caption has an urgent keyword."""
        if not self._urgent or not stored_body:
            return False
        message = InboundMessage.model_validate_json(stored_body)
        words = " ".join(
            part
            for part in (message.text, message.media.caption if message.media else None)
            if part
        ).lower()
        return any(word in words for word in self._urgent)
