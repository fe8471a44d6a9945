"""The whole bot with Twilio as its WhatsApp provider: the Twilio fake, the fake Slack and
``Empfang`` itself (``bot.app``, the production composition), on loopback.

Customers write through the Twilio fake (signed form webhooks into the bot), agents act in
the fake Slack; replies reach the fake's ``Messages.json`` and its status callbacks come
back signed, as from Twilio.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.app import Empfang
from bot.clock import ManualClock
from bot.config.twilio import WEBHOOK_PATH
from bot.sandbox import SandboxServer
from bot.sandbox.twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, TwilioAccount
from tests.fakes.slack import FakeSlack
from tests.fakes.twilio import FakeTwilio
from tests.slack.stack import AGENT, SlackStack, slack_settings


class TwilioStack(SlackStack):
    """:class:`SlackStack` with the Twilio fake in the sandbox's place."""

    def __init__(self, store: Path, fake: FakeSlack, twilio: FakeTwilio, **sections: Any):
        super().__init__("socket", store, fake, **sections)
        self.twilio = twilio

    async def start(self) -> TwilioStack:
        await self.fake.start()
        await self.twilio.start()
        self.fake.add_user(AGENT, "anna", real_name="Anna Agent", display_name="Anna")
        settings = slack_settings("socket", fake=self.fake, store=self._store, **self._sections)
        self.twilio.webhook_url = f"http://127.0.0.1:{settings.server.port}{WEBHOOK_PATH}"
        settings.whatsapp.provider = "twilio"
        settings.twilio.account_sid = self.twilio.account_sid
        settings.twilio.auth_token = SecretStr(self.twilio.auth_token)
        settings.twilio.from_number = self.twilio.sender
        settings.twilio.webhook_url = self.twilio.webhook_url
        settings.twilio.api_base = self.twilio.base_url
        self.settings = settings
        await self.start_bot()
        return self

    async def stop(self) -> None:
        await self.stop_bot()
        await self.twilio.stop()
        await self.fake.stop()

    async def settled(self, seconds: float = 20.0) -> None:
        """No job due, no status callback or Slack event in flight."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await self.twilio.idle(seconds)
            await self.fake.idle(seconds)
            if self.pending_jobs() == 0 and not self.twilio.busy:
                await asyncio.sleep(0.05)
                if self.pending_jobs() == 0 and not self.twilio.busy:
                    return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{self.pending_jobs()} jobs still pending")


class TwoProviderStack(SlackStack):
    """One Empfang with a Cloud API number and a Twilio number, the sandbox hosting both
    (its Graph API and its Twilio account on one port), agents in the fake Slack."""

    def __init__(self, store: Path, fake: FakeSlack, **sections: Any):
        super().__init__("socket", store, fake, **sections)
        self.clock = ManualClock(time.time())
        """The bot's clock (its 24-hour windows); the sandbox keeps its own."""

    async def start_bot(self) -> Empfang:
        assert self.settings is not None
        self.bot = Empfang(self.settings, clock=self.clock)
        await self.bot.start()
        return self.bot

    def pending_jobs(self) -> int:
        """Jobs due on the bot's clock, which a test may move."""
        due = self.clock.now() + 1
        query = f"SELECT count(*) FROM jobs WHERE state = 'pending' AND run_after < {due}"
        return int(self.rows(query)[0][0])

    @property
    def twilio(self) -> TwilioAccount:
        assert self.sandbox is not None
        return self.sandbox.twilio

    async def start(self) -> TwoProviderStack:
        await self.fake.start()
        self.fake.add_user(AGENT, "anna", real_name="Anna Agent", display_name="Anna")
        settings = slack_settings("socket", fake=self.fake, store=self._store, **self._sections)
        port = settings.server.port
        settings.twilio.webhook_url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
        settings.twilio.account_sid = DEFAULT_ACCOUNT_SID
        settings.twilio.auth_token = SecretStr(DEFAULT_AUTH_TOKEN)
        self.settings = settings
        self.sandbox = SandboxServer(settings, port=0)
        await self.sandbox.start()
        settings.whatsapp.api_base = self.sandbox.graph_url
        settings.twilio.api_base = self.sandbox.base_url
        await self.start_bot()
        return self
