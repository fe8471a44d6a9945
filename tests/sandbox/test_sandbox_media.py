"""Media: upload, info, download with and without Bearer, expiry, delete, customer media."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.sandbox.harness import ACCESS_TOKEN, CUSTOMER, PHONE_NUMBER_ID, Env, sandbox_env

AUTH = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
PDF = b"%PDF-1.4\n% sandbox test\n"


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with sandbox_env() as running:
        yield running


async def _upload(
    env: Env, content: bytes = PDF, mime: str = "application/pdf", **fields: str
) -> httpx.Response:
    data = {"messaging_product": "whatsapp", "type": mime, **fields}
    files = {"file": ("invoice.pdf", content, mime)}
    url = f"{env.sandbox.graph_url}/{PHONE_NUMBER_ID}/media"
    return await env.http.post(url, data=data, files=files, headers=AUTH)


async def _info(env: Env, media_id: str, **params: str) -> httpx.Response:
    url = f"{env.sandbox.graph_url}/{media_id}"
    return await env.http.get(url, headers=AUTH, params=params)


async def test_upload_info_download(env: Env) -> None:
    response = await _upload(env)
    assert response.status_code == 200
    assert set(response.json()) == {"id"}
    media_id = response.json()["id"]
    assert media_id.isdigit()

    info = await _info(env, media_id)
    assert info.status_code == 200
    body = info.json()
    assert body == {
        "messaging_product": "whatsapp",
        "url": body["url"],
        "mime_type": "application/pdf",
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "file_size": len(PDF),
        "id": media_id,
    }
    assert body["url"].startswith(env.sandbox.base_url)

    download = await env.http.get(body["url"], headers=AUTH)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["Content-Type"] == "application/pdf"


async def test_download_needs_the_bearer_token(env: Env) -> None:
    media_id = (await _upload(env)).json()["id"]
    url = (await _info(env, media_id)).json()["url"]
    assert (await env.http.get(url)).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (await env.http.get(url, headers=wrong)).status_code == 401


async def test_download_url_expires_after_five_minutes(env: Env) -> None:
    media_id = (await _upload(env)).json()["id"]
    url = (await _info(env, media_id)).json()["url"]
    env.sandbox.advance_clock(299)
    assert (await env.http.get(url, headers=AUTH)).status_code == 200
    env.sandbox.advance_clock(2)
    assert (await env.http.get(url, headers=AUTH)).status_code == 404
    fresh = (await _info(env, media_id)).json()["url"]
    assert (await env.http.get(fresh, headers=AUTH)).status_code == 200


async def test_tampered_url_is_refused(env: Env) -> None:
    media_id = (await _upload(env)).json()["id"]
    url = (await _info(env, media_id)).json()["url"]
    assert (await env.http.get(url.replace("mid=", "mid=1"), headers=AUTH)).status_code == 404


async def test_info_needs_the_token(env: Env) -> None:
    media_id = (await _upload(env)).json()["id"]
    response = await env.http.get(f"{env.sandbox.graph_url}/{media_id}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 190


async def test_info_phone_number_guard(env: Env) -> None:
    media_id = (await _upload(env)).json()["id"]
    assert (await _info(env, media_id, phone_number_id=PHONE_NUMBER_ID)).status_code == 200
    other = await _info(env, media_id, phone_number_id="42")
    assert other.status_code == 400
    assert other.json()["error"]["code"] == 100


async def test_delete(env: Env) -> None:
    media_id = (await _upload(env)).json()["id"]
    url = f"{env.sandbox.graph_url}/{media_id}"
    deleted = await env.http.delete(url, headers=AUTH)
    assert deleted.json() == {"success": True}
    assert (await _info(env, media_id)).status_code == 400
    assert (await env.http.delete(url, headers=AUTH)).status_code == 400


@pytest.mark.parametrize(
    ("fields", "content", "mime", "code"),
    [
        ({"messaging_product": "sms"}, PDF, "application/pdf", 131009),
        ({}, PDF, "application/x-msdownload", 100),
        ({}, b"x" * (500 * 1024 + 1), "image/webp", 131053),
    ],
    ids=["product", "mime", "size"],
)
async def test_upload_is_validated(
    env: Env, fields: dict[str, str], content: bytes, mime: str, code: int
) -> None:
    response = await _upload(env, content, mime, **fields)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


async def test_upload_requires_multipart_fields(env: Env) -> None:
    url = f"{env.sandbox.graph_url}/{PHONE_NUMBER_ID}/media"
    no_file = await env.http.post(
        url,
        data={"messaging_product": "whatsapp", "type": "image/png"},
        files={"x": b"1"},
        headers=AUTH,
    )
    assert no_file.status_code == 400
    assert "file" in no_file.json()["error"]["message"]


async def test_upload_expires_after_30_days(env: Env) -> None:
    media_id = (await _upload(env)).json()["id"]
    env.sandbox.advance_clock(30 * 24 * 3600 + 1)
    assert (await _info(env, media_id)).status_code == 400


async def test_uploaded_media_can_be_sent_by_id(env: Env) -> None:
    env.sandbox.say(CUSTOMER, "Rechnung bitte")
    media_id = (await _upload(env)).json()["id"]
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "document",
        "document": {"id": media_id, "filename": "invoice.pdf", "caption": "Ihre Rechnung"},
    }
    assert (await env.send(body)).status_code == 200
    (message,) = env.sandbox.inbox(CUSTOMER)["messages"]
    assert message["media_id"] == media_id
    assert message["text"] == "Ihre Rechnung"


async def test_customer_media_is_downloadable_by_the_bot(env: Env) -> None:
    photo = b"\x89PNG fake but fine"
    env.sandbox.send_message(
        {
            "from": CUSTOMER,
            "type": "image",
            "data_base64": base64.b64encode(photo).decode(),
            "mime_type": "image/png",
            "caption": "Schaden am Paket",
        }
    )
    await env.sandbox.idle()
    image = env.receiver.messages[0]["image"]
    assert image["caption"] == "Schaden am Paket"
    assert image["mime_type"] == "image/png"
    assert image["sha256"] == base64.b64encode(hashlib.sha256(photo).digest()).decode()
    info = (await _info(env, image["id"])).json()
    assert (await env.http.get(info["url"], headers=AUTH)).content == photo


async def test_customer_media_expires_after_7_days(env: Env) -> None:
    env.sandbox.send_message({"from": CUSTOMER, "type": "audio"})
    await env.sandbox.idle()
    audio = env.receiver.messages[0]["audio"]
    assert audio["voice"] is True
    assert audio["mime_type"] == "audio/ogg; codecs=opus"
    env.sandbox.advance_clock(7 * 24 * 3600 + 1)
    assert (await _info(env, audio["id"])).status_code == 400


async def test_customer_media_with_direct_url(env: Env) -> None:
    env.sandbox.send_message({"from": CUSTOMER, "type": "document", "include_url": True})
    await env.sandbox.idle()
    document = env.receiver.messages[0]["document"]
    assert document["url"].startswith(env.sandbox.base_url)
    assert (await env.http.get(document["url"], headers=AUTH)).status_code == 200
