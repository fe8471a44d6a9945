"""What each message was written to, and the one place a send picks its number."""

from __future__ import annotations

import pytest

from adapters.whatsapp.cloud import CloudWhatsApp
from adapters.whatsapp.parse import parse_webhook
from bot.domain import OutboundText
from bot.ids import WaId
from bot.routing import NumberNotConfigured, sending_from
from tests.numbers import CUSTOMER
from tests.whatsapp_fixtures import MESSAGES, body, envelope

FIRST = "106540352242922"
SECOND = "106540352249999"


def for_number(number_id: str, field: str = "messages") -> bytes:
    doc = envelope(messages=[MESSAGES["text"]])
    change = doc["entry"][0]["changes"][0]
    change["value"]["metadata"]["phone_number_id"] = number_id
    if field != "messages":
        change["field"] = field
        echo = {"from": "15550783881", "to": CUSTOMER, "id": "wamid.E", "timestamp": "1697043223"}
        change["value"] = {
            "metadata": change["value"]["metadata"],
            "message_echoes": [{**echo, "type": "text", "text": {"body": "Hallo"}}],
        }
    return body(doc)


@pytest.mark.parametrize("number_id", [FIRST, SECOND])
def test_messages_and_echoes_carry_the_number_they_were_written_to(number_id: str) -> None:
    numbers = {FIRST, SECOND}
    [message] = parse_webhook(for_number(number_id), numbers=numbers).messages
    assert message.number_id == number_id
    echoes = parse_webhook(for_number(number_id, "smb_message_echoes"), numbers=numbers).echoes
    assert [echo.number_id for echo in echoes] == [number_id]


async def test_a_conversation_of_a_number_no_longer_configured_is_not_answered_from_another() -> (
    None
):
    """Refused before any request: the API base is a closed port, so a request would have
    failed as unreachable (retryable) instead."""
    provider = CloudWhatsApp(
        api_base="http://127.0.0.1:9",
        phone_number_id=FIRST,
        access_token="t",
        app_secret="s",
        verify_token="v",
        numbers=[FIRST],
    )
    try:
        with sending_from(SECOND), pytest.raises(NumberNotConfigured) as refused:
            await provider.send_text(WaId(CUSTOMER), OutboundText(text="Hallo"))
        assert not refused.value.retryable
        assert SECOND not in str(refused.value) and "…9999" in str(refused.value)
    finally:
        await provider.aclose()
