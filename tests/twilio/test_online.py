"""``check-config --online`` with Twilio: the account asked through the production check."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from pydantic import SecretStr

from adapters.twilio.online import check_online
from bot.config import TwilioSection
from tests.fakes.twilio import FakeTwilio


@pytest_asyncio.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio().start()
    yield fake
    await fake.stop()


def section(fake: FakeTwilio, token: str | None = None) -> TwilioSection:
    return TwilioSection(
        account_sid=fake.account_sid,
        auth_token=SecretStr(token or fake.auth_token),
        from_number=fake.sender,
        api_base=fake.base_url,
    )


async def test_right_credentials_name_the_account(twilio: FakeTwilio) -> None:
    report = await check_online(section(twilio))
    assert report.problems == []
    assert report.facts == ["twilio.account_sid: Empfang Test Account, active"]


async def test_wrong_auth_token_is_named(twilio: FakeTwilio) -> None:
    report = await check_online(section(twilio, token="wrong"))
    assert [p.split(":")[0] for p in report.problems] == ["twilio.auth_token"]
    assert "20003" in report.problems[0]


async def test_a_suspended_account_cannot_send(twilio: FakeTwilio) -> None:
    twilio.account_status = "suspended"
    report = await check_online(section(twilio))
    assert report.problems == ["twilio.account_sid: the account is suspended; it cannot send"]


async def test_unreachable_api_is_named(twilio: FakeTwilio) -> None:
    unreachable = section(twilio).model_copy(update={"api_base": "http://127.0.0.1:9"})
    report = await check_online(unreachable)
    assert [p.split(":")[0] for p in report.problems] == ["twilio.api_base"]
