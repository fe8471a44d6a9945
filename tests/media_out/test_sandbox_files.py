"""The sandbox's media, customer side: ``empfang sandbox say --file`` and the driver API
put a file on the customer's phone and send it as WhatsApp would (type by MIME, Meta's
limits, fetched by the bot with lookup + Bearer download), and ``inbox`` shows what the
business sent with type, size and sha256."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path

import pytest

from bot.cli import main
from bot.sandbox import SandboxClient, SandboxClientError, cli
from tests.media.images import phone_photo
from tests.sandbox.harness import (
    ACCESS_TOKEN,
    CUSTOMER,
    CUSTOMER_WA_ID,
    PHONE_NUMBER_ID,
    sandbox_env,
)

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 100 + b"\n%%EOF\n"
BEARER = {"Authorization": f"Bearer {ACCESS_TOKEN}"}


async def test_say_file_sends_a_document_the_bot_fetches_with_its_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Rechnung.pdf"
    path.write_bytes(PDF)
    async with sandbox_env() as env:
        base = env.sandbox.base_url
        assert await cli.say_file(base, CUSTOMER, path, "meine Rechnung", "Erika") == 0
        await env.sandbox.idle()
        (message,) = env.receiver.messages
        document = message["document"]
        assert message["type"] == "document"
        assert (document["caption"], document["filename"]) == ("meine Rechnung", "Rechnung.pdf")
        assert document["sha256"] == base64.b64encode(hashlib.sha256(PDF).digest()).decode()

        lookup = await env.http.get(f"{env.sandbox.graph_url}/{document['id']}", headers=BEARER)
        url = lookup.json()["url"]
        assert (await env.http.get(url)).status_code == 401  # Bearer only
        assert (await env.http.get(url, headers=BEARER)).content == PDF
    out = capsys.readouterr().out
    assert "sent the file 'Rechnung.pdf'" in out and CUSTOMER_WA_ID not in out


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("foto.jpg", phone_photo(), "image"),
        ("sticker.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(28), "sticker"),
        ("ansage.mp3", b"ID3" + bytes(2000), "audio"),
        ("notiz.txt", b"Bitte um Rueckruf\n", "document"),
    ],
)
async def test_the_file_type_decides_the_message_type(
    tmp_path: Path, name: str, content: bytes, kind: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    async with sandbox_env() as env, SandboxClient(env.sandbox.base_url) as client:
        await client.send_file(CUSTOMER, path, caption="Hier")
        await env.sandbox.idle()
        (message,) = env.receiver.messages
    assert message["type"] == kind
    assert message[kind].get("caption") == ("Hier" if kind in ("image", "document") else None)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("daten.zip", b"PK\x03\x04" + bytes(100), "one of the following types"),
        ("riesig.jpg", b"\xff\xd8" + bytes(5 * 1024 * 1024), "at most 5242880 bytes"),
        ("leer.pdf", b"", "empty"),
    ],
)
async def test_files_whatsapp_does_not_carry_are_refused(
    tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    async with sandbox_env() as env, SandboxClient(env.sandbox.base_url) as client:
        with pytest.raises(SandboxClientError, match=says):
            await client.send_file(CUSTOMER, path)
        await env.sandbox.idle()
        assert env.receiver.messages == []


async def test_inbox_shows_what_the_business_sent_with_type_size_and_sha256(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with sandbox_env() as env:
        env.sandbox.say(CUSTOMER, "Hallo")
        upload = await env.http.post(
            f"{env.sandbox.graph_url}/{PHONE_NUMBER_ID}/media",
            headers=BEARER,
            data={"messaging_product": "whatsapp", "type": "application/pdf"},
            files={"file": ("angebot.pdf", PDF, "application/pdf")},
        )
        media_id = upload.json()["id"]
        sent = await env.send(
            {
                "messaging_product": "whatsapp",
                "to": CUSTOMER_WA_ID,
                "type": "document",
                "document": {"id": media_id, "filename": "angebot.pdf"},
            }
        )
        assert sent.status_code == 200, sent.text
        view = env.sandbox.inbox(CUSTOMER)
        assert await cli.inbox(env.sandbox.base_url, CUSTOMER) == 0
    media = view["messages"][0]["media"]
    digest = hashlib.sha256(PDF).hexdigest()
    assert media == {
        "mime_type": "application/pdf",
        "file_size": len(PDF),
        "sha256": digest,
        "filename": "angebot.pdf",
    }
    assert f"application/pdf, 25 KB, sha256 {digest}" in capsys.readouterr().out


async def test_say_takes_a_text_or_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(PDF)
    async with sandbox_env() as env:
        url = env.sandbox.base_url
        both = ["sandbox", "--url", url, "say", "--from", CUSTOMER, "--file", str(path), "Hallo"]
        assert await asyncio.to_thread(main, both) == 2
        neither = ["sandbox", "--url", url, "say", "--from", CUSTOMER]
        assert await asyncio.to_thread(main, neither) == 2
        file_only = ["sandbox", "--url", url, "say", "--from", CUSTOMER, "--file", str(path)]
        assert await asyncio.to_thread(main, file_only) == 0
        await env.sandbox.idle()
        assert [m["type"] for m in env.receiver.messages] == ["document"]
    assert "say needs a text or --file PATH" in capsys.readouterr().err


def webp(size: int, *, animated: bool) -> bytes:
    """A WebP container of ``size`` bytes: ``VP8X`` with the animation flag, or plain ``VP8``."""
    chunk = b"VP8X" + (10).to_bytes(4, "little") + bytes([0x02]) if animated else b"VP8 "
    head = b"RIFF" + (size - 8).to_bytes(4, "little") + b"WEBP" + chunk
    return head + bytes(size - len(head))


@pytest.mark.parametrize(
    ("size", "animated", "accepted"),
    [
        (100 * 1024, False, True),
        (150 * 1024, False, False),  # static stickers: 100 KB
        (150 * 1024, True, True),  # animated: 500 KB
        (501 * 1024, True, False),
    ],
)
async def test_sticker_limits_static_and_animated(
    size: int, animated: bool, accepted: bool
) -> None:
    async with sandbox_env() as env:
        upload = await env.http.post(
            f"{env.sandbox.graph_url}/{PHONE_NUMBER_ID}/media",
            headers=BEARER,
            data={"messaging_product": "whatsapp", "type": "image/webp"},
            files={"file": ("s.webp", webp(size, animated=animated), "image/webp")},
        )
    if accepted:
        assert upload.status_code == 200, upload.text
    else:
        assert upload.status_code == 400
        assert upload.json()["error"]["code"] == 131053
