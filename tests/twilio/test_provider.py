"""The production Twilio adapter against the Twilio fake, without the rest of the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio

from adapters.twilio.provider import MAX_BODY, MAX_FIELDS, TwilioWhatsApp
from adapters.twilio.signature import sign
from bot.domain import OutboundButtons, OutboundReaction, OutboundText, WebhookBatch
from bot.errors import PayloadError, ProviderError, SignatureError, TokenInvalid
from bot.ids import ProviderMessageId, WaId
from bot.media.inbound import MediaInfo
from bot.media.spool import Spool
from tests.fakes.twilio import SENDER, FakeTwilio
from tests.numbers import CUSTOMER

TO = WaId(CUSTOMER)


@pytest_asyncio.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    fake = await FakeTwilio(webhook_url="http://127.0.0.1:9/unused").start()
    yield fake
    await fake.stop()


def adapter(fake: FakeTwilio, *, token: str | None = None) -> TwilioWhatsApp:
    return TwilioWhatsApp(
        account_sid=fake.account_sid,
        auth_token=token or fake.auth_token,
        from_number=fake.sender,
        webhook_url="",
        api_base=fake.base_url,
    )


async def test_send_is_form_encoded_with_basic_auth(twilio: FakeTwilio) -> None:
    provider = adapter(twilio)
    sid = await provider.send_text(TO, OutboundText(text="Hallo äöü"))
    await provider.aclose()
    assert sid.startswith("SM") and len(sid) == 34
    assert twilio.sent == [
        {"To": f"whatsapp:+{CUSTOMER}", "From": twilio.sender, "Body": "Hallo äöü"}
    ]


async def test_wrong_auth_token_is_token_invalid(twilio: FakeTwilio) -> None:
    provider = adapter(twilio, token="wrong")
    with pytest.raises(TokenInvalid) as refused:
        await provider.send_text(TO, OutboundText(text="Hallo"))
    await provider.aclose()
    assert refused.value.code == 20003 and twilio.sent == []


async def test_too_long_text_is_refused_before_sending(twilio: FakeTwilio) -> None:
    provider = adapter(twilio)
    with pytest.raises(ProviderError) as refused:
        await provider.send_text(TO, OutboundText(text="x" * (MAX_BODY + 1)))
    await provider.aclose()
    assert not refused.value.retryable and twilio.sent == []


async def test_buttons_go_as_numbered_options_and_reactions_are_refused(
    twilio: FakeTwilio,
) -> None:
    provider = adapter(twilio)
    await provider.send_buttons(TO, OutboundButtons(text="Passt es?", options=("Ja", "Nein")))
    with pytest.raises(ProviderError):
        await provider.send_reaction(
            TO, OutboundReaction(message_id=ProviderMessageId("SM1"), emoji="👍")
        )
    await provider.aclose()
    assert twilio.inbox("+" + CUSTOMER) == ["Passt es?\n\n1. Ja\n2. Nein"]


async def test_credentials_never_go_to_a_media_url_on_another_host(
    twilio: FakeTwilio, tmp_path: Path
) -> None:
    provider = adapter(twilio)
    elsewhere = MediaInfo(url="https://media.example.org/ME1", mime_type="image/jpeg")
    with pytest.raises(ProviderError) as refused:
        await provider.media_in.download(elsewhere, Spool(tmp_path), cap=1000)
    await provider.aclose()
    assert not refused.value.retryable


def test_every_configured_sender_is_ours() -> None:
    """``[[numbers]]`` with several Twilio senders on one account: each is taken."""
    second, other = "whatsapp:+14155230000", "whatsapp:+14155239999"
    provider = TwilioWhatsApp(
        account_sid="AC" + "0" * 32,
        auth_token="token",
        from_number=SENDER,
        numbers=[SENDER, second],
        webhook_url="https://empfang.example.com/webhooks/twilio",
        api_base="https://api.twilio.com",
    )

    def delivered(to: str) -> WebhookBatch:
        params = {"MessageSid": "SM" + "1" * 32, "From": f"whatsapp:+{CUSTOMER}", "To": to}
        header = sign("token", "https://empfang.example.com/webhooks/twilio", list(params.items()))
        return provider.parse(urlencode(params).encode(), header)

    assert len(delivered(second).messages) == 1
    assert delivered(other).messages == () and len(delivered(other).foreign) == 1


def test_a_form_of_thousands_of_fields_is_refused_before_signing() -> None:
    """The signature is computed over every field before anything is trusted; Twilio sends
    a few dozen, so a huge form is refused (400) instead of hashed."""
    provider = TwilioWhatsApp(
        account_sid="AC" + "0" * 32,
        auth_token="token",
        from_number=SENDER,
        webhook_url="https://empfang.example.com/webhooks/twilio",
        api_base="https://api.twilio.com",
    )
    huge = "&".join(f"k{i}=v" for i in range(MAX_FIELDS + 1)).encode()
    with pytest.raises(PayloadError):
        provider.parse(huge, "AAAA")
    with pytest.raises(SignatureError) as missing:
        provider.parse(huge, None)
    assert missing.value.status == 401


@pytest.mark.parametrize(
    "path",
    [
        "Messages.json",
        "/".join(["Messages/MM1/Media/ME1", "..", "..", "..", "Messages.json"]),
        "Messages/MM1/Media/ME1?PageSize=1000",
        "Messages/MM1/Media/",
        "Messages/MM1/Media/ME1/x",
    ],
)
async def test_credentials_go_only_to_a_media_resource_of_the_account(
    twilio: FakeTwilio, tmp_path: Path, path: str
) -> None:
    """A media URL on Twilio's host but naming another resource of the account (its
    message list) would be fetched with the account's credentials."""
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    url = f"{twilio.base_url}/2010-04-01/Accounts/{twilio.account_sid}/{path}"
    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        provider = TwilioWhatsApp(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            from_number=twilio.sender,
            webhook_url="",
            api_base=twilio.base_url,
            client=http,
        )
        with pytest.raises(ProviderError) as refused:
            await provider.media_in.download(
                MediaInfo(url=url, mime_type=""), Spool(tmp_path), cap=1000
            )
    assert not refused.value.retryable
    assert sent == []
