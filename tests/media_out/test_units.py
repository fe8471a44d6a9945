"""The pure parts of agents' files: what a message asks for, event shapes, where the Slack
token may go, and that a tampered encrypted attachment is refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest
from aiohttp import web
from nio.crypto.attachments import encrypt_attachment

from adapters.matrix.attachments import _Decrypting, _keys, agent_file, fetch
from adapters.slack.attachments import agent_files, token_may_go_to
from bot.errors import PlatformError
from bot.media.outbound import file_intent
from bot.media.spool import Spool
from bot.ports import AgentFile


@pytest.mark.parametrize(
    ("text", "mode", "intent", "caption"),
    [
        ("", "all", "send", ""),
        ("", "explicit", "ignore", ""),
        ("!send", "explicit", "send", ""),
        ("!SEND Ihr Angebot", "explicit", "send", "Ihr Angebot"),
        ("zur Info", "explicit", "ignore", ""),
        ("Ihre Rechnung", "all", "send", "Ihre Rechnung"),
        ("!note nur intern", "all", "note", "nur intern"),
    ],
)
def test_file_intent(text: str, mode: str, intent: str, caption: str) -> None:
    parsed = file_intent(text, reply_mode=mode)
    assert (parsed.intent, parsed.text) == (intent, caption)


def test_matrix_caption_only_when_filename_differs_from_body() -> None:
    plain = {"msgtype": "m.file", "body": "a.pdf", "url": "mxc://hs/abc"}
    captioned = {**plain, "filename": "a.pdf", "body": "Ihre Rechnung"}
    assert agent_file(plain) is not None and agent_file(plain)[1] == ""  # type: ignore[index]
    found = agent_file(captioned)
    assert found is not None
    assert (found[0].name, found[1]) == ("a.pdf", "Ihre Rechnung")
    assert agent_file({**plain, "url": "https://evil.example/a.pdf"}) is None
    assert agent_file({**plain, "msgtype": "m.location"}) is None


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://files.slack.com/files-pri/T1-F1/a.pdf", True),
        ("http://files.slack.com/files-pri/T1-F1/a.pdf", False),
        ("https://files.slack.com.evil.example/a.pdf", False),
        ("https://evil.example/files-pri/a.pdf", False),
        ("http://127.0.0.1:9999/files-pri/T1-F1/a.pdf", True),  # the configured api_base
        ("http://127.0.0.1:9998/files-pri/T1-F1/a.pdf", False),
    ],
)
def test_the_slack_token_goes_only_to_slack(url: str, allowed: bool) -> None:
    assert token_may_go_to(url, "http://127.0.0.1:9999/api/") is allowed


def test_slack_files_without_bytes_are_kept_to_be_explained() -> None:
    files = agent_files(
        {"files": [{"name": "x.pdf", "mode": "external", "url_private": "https://x"}, "junk"]}
    )
    assert [(f.name, f.ref) for f in files] == [("x.pdf", "")]


class _Body:
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    @property
    def headers(self) -> Mapping[str, str]:
        return {}

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


async def test_encrypted_attachment_decrypts_in_chunks_and_refuses_tampering(
    tmp_path: Path,
) -> None:
    plain = bytes(range(256)) * 300
    cipher, keys = encrypt_attachment(plain)
    secrets = json.dumps(keys)
    spool = Spool(tmp_path / "spool")
    chunks = [cipher[i : i + 1000] for i in range(0, len(cipher), 1000)]
    spooled = await spool.stream_to_file(_Decrypting(_Body(chunks), _keys(secrets)), 10**6)
    assert spooled.path.read_bytes() == plain

    tampered = [chunks[0][:-1] + bytes([chunks[0][-1] ^ 1]), *chunks[1:]]
    with pytest.raises(PlatformError, match="hash"):
        await spool.stream_to_file(_Decrypting(_Body(tampered), _keys(secrets)), 10**6)
    assert [p for p in (tmp_path / "spool").iterdir() if p != spooled.path] == []


class _Homeserver:
    """A homeserver without authenticated media (older than Matrix 1.11): ``v1`` is 404."""

    def __init__(self, content: bytes, *, status: int = 200) -> None:
        self.content = content
        self.status = status
        self.seen: list[tuple[str, str | None]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((request.path, request.headers.get("Authorization")))
        if request.path.startswith("/_matrix/client/v1/"):
            return web.json_response({"errcode": "M_UNRECOGNIZED"}, status=404)
        if self.status != 200:
            return web.json_response({"errcode": "M_LIMIT_EXCEEDED"}, status=self.status)
        return web.Response(body=self.content, content_type="application/pdf")


@pytest.mark.parametrize(("status", "retryable"), [(200, None), (403, False), (429, True)])
async def test_matrix_download_falls_back_to_the_legacy_path(
    tmp_path: Path, status: int, retryable: bool | None
) -> None:
    server = _Homeserver(b"%PDF-1.4 old server", status=status)
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    file = AgentFile(
        kind="file", name="a.pdf", ref="mxc://hs.example/abc", mime_type="application/pdf"
    )
    try:
        if retryable is None:
            spooled = await fetch(base, "bot-token", file, Spool(tmp_path), cap=10_000)
            assert spooled.path.read_bytes() == server.content
        else:
            with pytest.raises(PlatformError) as raised:
                await fetch(base, "bot-token", file, Spool(tmp_path), cap=10_000)
            assert raised.value.retryable is retryable
    finally:
        await runner.cleanup()
    assert [path for path, _ in server.seen] == [
        "/_matrix/client/v1/media/download/hs.example/abc",
        "/_matrix/media/v3/download/hs.example/abc",
    ]
    assert {auth for _, auth in server.seen} == {"Bearer bot-token"}
