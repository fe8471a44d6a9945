"""``[alerts]`` and ``[business_hours]``: durations are written like ``10m``, ``1h30m``."""

from __future__ import annotations

import re
from datetime import date

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from bot.config.base import Duration, OutboundUrl, Section

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_span(value: str) -> tuple[int, int]:
    """``"08:00-18:00"`` → minutes since midnight (start, end)."""
    match = _SPAN.match(value)
    if not match:
        raise ValueError(f'"{value}" is not a time span like "08:00-18:00"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if not (0 <= start < end <= 24 * 60) or m1 > 59 or m2 > 59:
        raise ValueError(f'"{value}": the end must be after the start, within one day')
    return start, end


class OncallSection(Section):
    """Who is mentioned, per platform: Matrix user ids; a Slack ``<!subteam^ID>`` or ``<@U…>``."""

    matrix: list[str] = Field(default_factory=list)
    slack: str = ""


class PagingSection(Section):
    """A paging tool that speaks the PagerDuty Events API v2 (trigger / resolve by dedup key)."""

    url: OutboundUrl = ""
    routing_key: SecretStr = SecretStr("")
    source: str = "empfang"
    timeout_seconds: float = Field(default=10.0, gt=0)


class AlertsSection(Section):
    unanswered_after: Duration = 600.0
    escalate_after: Duration = 1800.0
    window_warning_before: Duration = 3600.0
    signature_failures_threshold: int = Field(default=5, ge=1)
    signature_failures_window: Duration = 300.0
    platform_down_after: Duration = 300.0
    room: str = ""
    oncall: OncallSection = Field(default_factory=OncallSection)
    webhook: PagingSection = Field(default_factory=PagingSection)


class BusinessHoursSection(Section):
    """Weekly opening hours; SLA timers count only open time. Empty ``weekly``: always open."""

    timezone: str = "Europe/Berlin"
    weekly: dict[str, list[str]] = Field(default_factory=dict)
    holidays: list[date] = Field(default_factory=list)
    holidays_country: str = ""
    """ISO 3166 code (``DE``): its public holidays are closed too, merged with ``holidays``."""
    holidays_subdivision: str = ""
    """State or region within ``holidays_country`` (``BY``): adds its own public holidays."""
    out_of_hours_reply: str = ""
    urgent_keywords: list[str] = Field(default_factory=list)

    @field_validator("weekly")
    @classmethod
    def _check_weekly(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, spans in value.items():
            if day.lower() not in WEEKDAYS:
                raise ValueError(f'"{day}" is not a weekday (monday … sunday)')
            for span in spans:
                parse_span(span)
        return {day.lower(): spans for day, spans in value.items()}

    @field_validator("holidays_country")
    @classmethod
    def _check_country(cls, value: str) -> str:
        code = value.strip().upper()
        if not code:
            return ""
        from holidays import list_supported_countries  # ~0.3 s: only when configured

        if code not in list_supported_countries():
            raise ValueError(
                f'"{value}" is not a country with a holiday calendar;'
                ' use an ISO 3166 code like "DE", "AT" or "CH"'
            )
        return code

    @field_validator("holidays_subdivision")
    @classmethod
    def _check_subdivision(cls, value: str, info: ValidationInfo) -> str:
        if not value.strip():
            return ""
        from holidays import list_supported_countries

        country = info.data.get("holidays_country")
        if country is None:
            return value  # the country is invalid, and reported under its own key
        if not country:
            raise ValueError('needs business_hours.holidays_country, e.g. "DE"')
        known = list_supported_countries()[country]
        by_upper = {code.upper(): code for code in known}
        if value.strip().upper() not in by_upper:
            raise ValueError(f'"{value}" is not a subdivision of {country}: {", ".join(known)}')
        return by_upper[value.strip().upper()]

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f'"{value}" is not an IANA time zone like "Europe/Berlin"') from exc
        return value
