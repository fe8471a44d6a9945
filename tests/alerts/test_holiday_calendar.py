"""Public holidays by country and subdivision (``holidays_country``, ``holidays_subdivision``),
merged with the explicit ``holidays`` list; unknown codes are refused by key."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.hours import BusinessHours
from bot.clock import ManualClock
from bot.config import BusinessHoursSection, load_config
from bot.errors import ConfigError
from bot.store import Store
from tests.alerts.desk import Desk, PagingReceiver, at
from tests.unit.test_config import VALID, write

EPIPHANY = date(2026, 1, 6)
"""Heilige Drei Könige, a Tuesday: a public holiday in Bavaria, a working day in Berlin."""
WEEKDAYS = {day: ["08:00-18:00"] for day in ("monday", "tuesday", "wednesday", "thursday")}


def hours(**section: Any) -> BusinessHours:
    return BusinessHours(BusinessHoursSection(weekly=WEEKDAYS, **section))


def test_subdivision_holidays_close_the_day_only_where_they_apply() -> None:
    bavaria = hours(holidays_country="DE", holidays_subdivision="BY")
    berlin = hours(holidays_country="DE", holidays_subdivision="BE")
    assert bavaria.is_holiday(EPIPHANY) and not bavaria.is_open(at("2026-01-06 10:00"))
    assert not berlin.is_holiday(EPIPHANY) and berlin.is_open(at("2026-01-06 10:00"))
    monday_evening = at("2026-01-05 17:30")
    assert bavaria.add_open_time(monday_evening, 3600) == at("2026-01-07 08:30")
    assert berlin.add_open_time(monday_evening, 3600) == at("2026-01-06 08:30")


def test_country_holidays_merge_with_the_explicit_list() -> None:
    merged = hours(holidays_country="de", holidays=[date(2026, 12, 23)])
    assert merged.is_holiday(date(2026, 12, 23))  # explicit
    assert merged.is_holiday(date(2026, 12, 25))  # national: Weihnachten
    assert merged.is_holiday(date(2031, 10, 3))  # any year, not a list that runs out
    assert not merged.is_holiday(EPIPHANY)  # Bavarian only
    assert not hours().is_holiday(date(2026, 12, 25))  # no country: explicit list only


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('holidays_country = "XX"', 'business_hours.holidays_country: Value error, "XX" is not'),
        (
            'holidays_country = "DE"\nholidays_subdivision = "ZZ"',
            'business_hours.holidays_subdivision: Value error, "ZZ" is not a subdivision of DE',
        ),
        (
            'holidays_subdivision = "BY"',
            "business_hours.holidays_subdivision: Value error, needs business_hours.holidays_co",
        ),
    ],
)
def test_unknown_country_or_subdivision_is_refused_by_key(
    tmp_path: Path, section: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, f"{VALID}\n[business_hours]\n{section}\n"))
    assert expected in str(info.value)


def test_codes_are_normalised() -> None:
    section = BusinessHoursSection(holidays_country=" de", holidays_subdivision="by")
    assert (section.holidays_country, section.holidays_subdivision) == ("DE", "BY")


@pytest.mark.parametrize(("subdivision", "auto_replies"), [("BY", 1), ("BE", 0)])
async def test_out_of_hours_reply_on_a_regional_holiday(
    tmp_path: Path, pager: PagingReceiver, subdivision: str, auto_replies: int
) -> None:
    store = await Store.open(tmp_path / "alerts.sqlite3", clock=ManualClock(at("2026-01-06 10:00")))
    desk = Desk(
        store,
        pager.url,
        hours={
            "weekly": WEEKDAYS,
            "holidays_country": "DE",
            "holidays_subdivision": subdivision,
            "out_of_hours_reply": "Heute ist Feiertag.",
        },
    )
    await desk.customer_says("Hallo?")
    assert len(desk.whatsapp.sent) == auto_replies
    await store.close()
