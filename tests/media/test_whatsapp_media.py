"""Customers' media from the Cloud API (``adapters.whatsapp.media``), against the sandbox:
lookup, the Bearer download streamed into the spool, expiry, the cap and 131052."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.whatsapp.media import CloudMediaIn
from adapters.whatsapp.parse import parse_webhook
from bot.errors import MediaTooLarge, ProviderError
from bot.media.spool import Spool
from tests.media.customer import PDF
from tests.sandbox.harness import ACCESS_TOKEN, CUSTOMER, Env, sandbox_env


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with sandbox_env() as running:
        yield running


@pytest.fixture
async def source(env: Env) -> AsyncIterator[CloudMediaIn]:
    """The adapter as the bot builds it, on the sandbox."""
    auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    async with httpx.AsyncClient() as http:
        yield CloudMediaIn(lambda: http, env.sandbox.graph_url, auth)


async def customer_sends(
    env: Env, kind: str = "document", content: bytes = PDF, **extra: object
) -> dict[str, object]:
    """The customer sends ``content``; the media reference as the bot parses it."""
    spec = {"from": CUSTOMER, "type": kind, "data_base64": base64.b64encode(content).decode()}
    env.sandbox.send_message({**spec, **extra})
    await env.sandbox.idle()
    body = env.receiver.received[-1].body
    message = parse_webhook(body).messages[0]
    assert message.media is not None
    return message.media.model_dump()


async def test_lookup_then_streamed_download_with_the_digest(
    env: Env, source: CloudMediaIn, tmp_path: Path
) -> None:
    media = await customer_sends(env, include_url=True)
    assert str(media["url"]).startswith(env.sandbox.base_url)  # the newer webhook's url
    info = await source.lookup(str(media["media_id"]))
    assert (info.mime_type, info.size) == ("application/pdf", len(PDF))
    assert info.sha256 == hashlib.sha256(PDF).hexdigest()
    spooled = await source.download(info, Spool(tmp_path / "spool"), cap=len(PDF))
    assert spooled.path.read_bytes() == PDF
    assert spooled.matches(str(info.sha256)) and spooled.matches(str(media["sha256"]))


async def test_an_expired_url_fails_and_a_new_lookup_works(
    env: Env, source: CloudMediaIn, tmp_path: Path
) -> None:
    media_id = str((await customer_sends(env))["media_id"])
    spool = Spool(tmp_path / "spool")
    stale = await source.lookup(media_id)
    env.sandbox.advance_clock(301)
    with pytest.raises(ProviderError) as failed:
        await source.download(stale, spool, cap=len(PDF))
    assert failed.value.retryable and failed.value.code == 404
    fresh = await source.lookup(media_id)
    assert (await source.download(fresh, spool, cap=len(PDF))).size == len(PDF)


async def test_over_the_cap_the_download_stops_and_leaves_nothing(
    env: Env, source: CloudMediaIn, tmp_path: Path
) -> None:
    info = await source.lookup(str((await customer_sends(env))["media_id"]))
    spool = Spool(tmp_path / "spool")
    with pytest.raises(MediaTooLarge):
        await source.download(info, spool, cap=100)
    assert not spool.folder.exists() or list(spool.folder.iterdir()) == []


async def test_media_meta_could_not_fetch_answers_131052_worth_a_retry(
    env: Env, source: CloudMediaIn
) -> None:
    media = await customer_sends(env, "image", b"\xff\xd8 not really", download_fails=True)
    with pytest.raises(ProviderError) as failed:
        await source.lookup(str(media["media_id"]))
    assert failed.value.code == 131052 and failed.value.retryable


def test_a_webhook_url_is_used_only_when_the_token_may_go_there() -> None:
    def media_url(url: str) -> str | None:
        body = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550001111",
                                    "phone_number_id": "106540352242922",
                                },
                                "messages": [
                                    {
                                        "from": "4915112345678",
                                        "id": "wamid.ABC",
                                        "timestamp": "1700000000",
                                        "type": "image",
                                        "image": {"id": "123", "url": url},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
        media = parse_webhook(json.dumps(body).encode()).messages[0].media
        assert media is not None
        return media.url

    https = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=123"
    assert media_url(https) == https
    assert media_url("http://127.0.0.1:8090/a?mid=1") == "http://127.0.0.1:8090/a?mid=1"
    assert media_url("http://attacker.example/steal") is None
    assert media_url("file:///etc/passwd") is None


@pytest.mark.parametrize(
    "media_id", ["../../etc/passwd", "1?fields=access_token&x=", "http://evil.example/x", "..", ""]
)
async def test_a_media_id_that_is_not_an_id_is_never_looked_up(env: Env, media_id: str) -> None:
    """Probe 7: the id went into the Graph URL as it came, with the access token
    (``GET /etc/passwd``); one stored before the webhook checked ids is refused here."""
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        source = CloudMediaIn(lambda: http, env.sandbox.graph_url, auth)
        with pytest.raises(ProviderError) as refused:
            await source.lookup(media_id)
    assert not refused.value.retryable
    assert sent == []
