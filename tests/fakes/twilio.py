"""Twilio's WhatsApp API as a local HTTP server of its own, for tests of the Twilio adapter.

The wire behaviour is the product's (:class:`bot.sandbox.twilio.TwilioAccount`, which
``empfang sandbox`` also hosts): this fake only gives it a loopback port and the test
account's credentials, so the suite's Twilio and the admins' sandbox cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from bot.sandbox.twilio import Callback, TwilioAccount

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-twilio-auth-token"
SENDER = "whatsapp:+14155238886"

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "SENDER", "Callback", "FakeTwilio"]


@dataclass
class FakeTwilio(TwilioAccount):
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    senders: tuple[str, ...] = (SENDER,)
    friendly_name: str = "Empfang Test Account"
    _runner: web.AppRunner | None = field(default=None, repr=False)

    async def start(self) -> FakeTwilio:
        app = web.Application()
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        await self.idle()
        await self.background.cancel_all()
        if self._runner is not None:
            await self._runner.cleanup()
