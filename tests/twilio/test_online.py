"""``check-config --online`` with Twilio: the account asked through the production check."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from pydantic import SecretStr

from adapters.twilio.online import check_online
from bot.cli import main
from bot.config import Settings, TwilioSection
from bot.sandbox import SandboxServer
from bot.sandbox.twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tests.conftest import SECRETS
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, CHANNEL, FakeSlack
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


async def test_the_cli_checks_both_providers_of_a_mixed_config(tmp_path: Path) -> None:
    """A Cloud (sandbox) number and a Twilio number: ``--online`` asks Meta's side and
    Twilio's, here both the sandbox's."""
    async with FakeSlack(private=True) as fake:
        sandbox = SandboxServer(Settings.model_validate({"whatsapp": SECRETS}), port=0)
        await sandbox.start()
        try:
            config = tmp_path / "mixed.toml"
            config.write_text(mixed_config(tmp_path, sandbox, fake), encoding="utf-8")
            out, err = io.StringIO(), io.StringIO()

            def run() -> int:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    return main(["check-config", "--config", str(config), "--online"])

            code = await asyncio.to_thread(run)
        finally:
            await sandbox.stop()
    assert code == 0, err.getvalue()
    facts = [line for line in out.getvalue().splitlines() if line.startswith("ok: ")]
    assert [line.split(":")[1].strip() for line in facts] == [
        "whatsapp.phone_number_id",
        "twilio.account_sid",
        "slack.bot_token",
    ]
    assert "ok: twilio.account_sid: Empfang Sandbox Account, active" in facts


def mixed_config(tmp_path: Path, sandbox: SandboxServer, fake: FakeSlack) -> str:
    secrets = "\n".join(f'{key} = "{value}"' for key, value in SECRETS.items())
    return f"""
[server]
host = "127.0.0.1"
public_url = "https://empfang.example.com"
[store]
path = "{tmp_path / "empfang.sqlite3"}"
[whatsapp]
provider = "sandbox"
api_base = "{sandbox.graph_url}"
{secrets}
[twilio]
account_sid = "{DEFAULT_ACCOUNT_SID}"
auth_token = "{DEFAULT_AUTH_TOKEN}"
api_base = "{sandbox.base_url}"
[[numbers]]
phone_number_id = "{SECRETS["phone_number_id"]}"
shared = true
[[numbers]]
provider = "twilio"
from_number = "whatsapp:+14155238886"
shared = true
[chat]
platform = "slack"
[slack]
bot_token = "{BOT_TOKEN}"
app_token = "{APP_TOKEN}"
channel_id = "{CHANNEL}"
api_base = "{fake.api_base}"
[privacy]
pseudonym_key = "test-pseudonym-key-0123456789"
"""
