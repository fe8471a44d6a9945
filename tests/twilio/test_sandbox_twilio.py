"""The sandbox's Twilio mode over its public surfaces: ``empfang sandbox say --business``
delivers Twilio's signed form webhook, the Messages API takes a send with Basic auth only,
status callbacks follow, and ``empfang sandbox inbox --business`` shows the chat.

The stand-in bot here checks signatures with the production check
(``adapters.twilio.signature``), so a sandbox that signed anything else than what Twilio
signs fails these tests.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from adapters.twilio.signature import HEADER, verify
from bot.config import Settings
from bot.config.twilio import WEBHOOK_PATH
from bot.errors import SignatureError
from bot.sandbox import SandboxServer, cli
from bot.sandbox.twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tests.numbers import CUSTOMER

SENDER = "whatsapp:+15555550199"
MESSAGES = f"/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages.json"


@dataclass
class TwilioReceiver:
    """The bot's Twilio endpoint: forms whose signature the production check accepts."""

    url: str = ""
    forms: list[dict[str, str]] = field(default_factory=list)
    refused: int = 0

    async def post(self, request: web.Request) -> web.Response:
        params = parse_qsl((await request.read()).decode(), keep_blank_values=True)
        try:
            verify(DEFAULT_AUTH_TOKEN, self.url, params, request.headers.get(HEADER))
        except SignatureError:
            self.refused += 1
            return web.Response(status=403)
        self.forms.append(dict(params))
        return web.Response(text="<Response></Response>", content_type="text/xml")


@dataclass
class Running:
    sandbox: SandboxServer
    bot: TwilioReceiver


@pytest_asyncio.fixture
async def running() -> AsyncIterator[Running]:
    bot = TwilioReceiver()
    app = web.Application()
    app.router.add_post(WEBHOOK_PATH, bot.post)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    bot.url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    settings = Settings.model_validate(
        {
            "server": {"host": "127.0.0.1", "port": port},
            "whatsapp": {"provider": "sandbox", "phone_number_id": "106540352242922"},
            "numbers": [
                {"phone_number_id": "106540352242922"},
                {"provider": "twilio", "from_number": SENDER},
            ],
        }
    )
    sandbox = SandboxServer(settings, port=0)
    await sandbox.start()
    yield Running(sandbox, bot)
    await sandbox.stop()
    await runner.cleanup()


def basic(token: str = DEFAULT_AUTH_TOKEN) -> dict[str, str]:
    pair = base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:{token}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


async def test_a_twilio_number_without_a_twilio_account(
    running: Running, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, bot = running.sandbox, running.bot
    base = sandbox.base_url
    assert await cli.say(base, "+" + CUSTOMER, "Hallo", "Erika", SENDER) == 0
    assert await sandbox.idle(10)
    (form,) = bot.forms
    assert (form["To"], form["From"], form["WaId"]) == (SENDER, f"whatsapp:+{CUSTOMER}", CUSTOMER)
    assert (form["Body"], form["ProfileName"], form["SmsStatus"]) == ("Hallo", "Erika", "received")
    assert form["MessageSid"].startswith("SM") and len(form["MessageSid"]) == 34
    assert CUSTOMER not in capsys.readouterr().out  # say prints the masked sender only

    send = {"From": SENDER, "To": f"whatsapp:+{CUSTOMER}", "Body": "Danke!"}
    async with httpx.AsyncClient(base_url=base) as client:
        wrong = await client.post(MESSAGES, data=send, headers=basic("wrong"))
        answer = await client.post(
            MESSAGES, data={**send, "StatusCallback": bot.url}, headers=basic()
        )
    assert (wrong.status_code, wrong.json()["code"]) == (401, 20003)
    assert answer.status_code == 201 and answer.json()["status"] == "queued"
    assert await sandbox.idle(10)
    statuses = [f["MessageStatus"] for f in bot.forms if "MessageStatus" in f]
    assert statuses == ["sent", "delivered", "read"]
    assert bot.refused == 0

    assert await cli.inbox(base, "+" + CUSTOMER, SENDER) == 0
    shown = capsys.readouterr().out
    assert "'Danke!'" in shown and "✓✓ read" in shown and CUSTOMER not in shown


async def test_the_sandbox_names_its_twilio_side(running: Running) -> None:
    async with httpx.AsyncClient() as client:
        info = (await client.get(f"{running.sandbox.base_url}/sandbox")).json()
    assert info["twilio"] == {
        "api_base": running.sandbox.base_url,
        "account_sid": DEFAULT_ACCOUNT_SID,
        "senders": [SENDER],
        "webhook_url": running.bot.url,
    }
