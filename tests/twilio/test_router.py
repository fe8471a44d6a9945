"""``bot.providers``: each send goes to the provider of the number it leaves from, built from
the configuration as ``empfang run`` builds it (``bot.whatsapp_side``), against the
sandbox's Graph API and Twilio account."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.config import Settings
from bot.domain import OutboundText
from bot.ids import WaId
from bot.routing import NumberNotConfigured, sending_from
from bot.sandbox import SandboxServer
from bot.sandbox.twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from bot.whatsapp_side import WhatsAppSide, build_whatsapp
from tests.conftest import SECRETS
from tests.numbers import CUSTOMER

CLOUD = SECRETS["phone_number_id"]
TWILIO = "whatsapp:+14155238886"


@pytest_asyncio.fixture
async def side() -> AsyncIterator[tuple[WhatsAppSide, SandboxServer]]:
    settings = Settings.model_validate(
        {
            "whatsapp": {**SECRETS, "provider": "sandbox"},
            "twilio": {
                "account_sid": DEFAULT_ACCOUNT_SID,
                "auth_token": DEFAULT_AUTH_TOKEN,
                "webhook_url": "http://127.0.0.1:9/webhooks/twilio",  # callbacks go nowhere
            },
            "numbers": [{"phone_number_id": CLOUD}, {"provider": "twilio", "from_number": TWILIO}],
        }
    )
    sandbox = SandboxServer(settings, port=0)
    await sandbox.start()
    settings.whatsapp.api_base = sandbox.graph_url
    settings.twilio.api_base = sandbox.base_url
    built = build_whatsapp(settings)
    yield built, sandbox
    await built.router.aclose()
    await sandbox.stop()


async def test_sends_go_to_the_provider_of_the_sending_number(
    side: tuple[WhatsAppSide, SandboxServer],
) -> None:
    built, sandbox = side
    assert [endpoint.route.path for endpoint in built.endpoints] == [
        "/webhooks/whatsapp",
        "/webhooks/twilio",
    ]
    to = WaId(CUSTOMER)
    with sending_from(TWILIO):
        sid = await built.router.send_text(to, OutboundText(text="über Twilio"))
    with sending_from(CLOUD):
        wamid = await built.router.send_text(to, OutboundText(text="über Meta"))
    assert sid.startswith("SM") and wamid.startswith("wamid.")
    assert [(f["From"], f["Body"]) for f in sandbox.twilio.sent] == [(TWILIO, "über Twilio")]
    cloud = sandbox.inbox("+" + CUSTOMER, CLOUD)["messages"]
    assert [m["text"] for m in cloud] == ["über Meta"]


async def test_a_number_no_longer_configured_sends_through_no_provider(
    side: tuple[WhatsAppSide, SandboxServer],
) -> None:
    built, sandbox = side
    with sending_from("whatsapp:+14155550000"), pytest.raises(NumberNotConfigured):
        await built.router.send_text(WaId(CUSTOMER), OutboundText(text="Hallo"))
    assert sandbox.twilio.sent == []
    assert sandbox.inbox("+" + CUSTOMER, CLOUD)["messages"] == []
