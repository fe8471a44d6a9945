"""``empfang sandbox`` command functions: serve, say, inbox, read, verify."""

from __future__ import annotations

import asyncio
import socket

import pytest
from pydantic import SecretStr

from bot.sandbox import SandboxClient, SandboxUnavailable, cli
from tests.sandbox.harness import (
    CUSTOMER,
    CUSTOMER_WA_ID,
    Receiver,
    make_settings,
    receiver_running,
    sandbox_env,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_prints_where_it_listens_and_stops_on_cancel(
    capsys: pytest.CaptureFixture[str],
) -> None:
    receiver = Receiver()
    async with receiver_running(receiver) as bot_port:
        port = _free_port()
        settings = make_settings(bot_port, port=port)
        task = asyncio.create_task(cli.serve(settings))
        base = f"http://127.0.0.1:{port}"
        async with SandboxClient(base) as client:
            for _ in range(100):
                try:
                    await client.info()
                    break
                except SandboxUnavailable:
                    await asyncio.sleep(0.02)
            assert await cli.say(base, CUSTOMER, "Hallo", "Erika") == 0
            await client.idle()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    out = capsys.readouterr().out
    assert f"{base}/v23.0" in out
    assert receiver.url in out
    assert f"{base}/sandbox" in out
    assert "Sandbox stopped." in out
    assert CUSTOMER_WA_ID not in out  # say prints the masked sender only
    assert "…78 sent: 'Hallo'" in out
    assert receiver.messages[0]["text"]["body"] == "Hallo"


async def test_serve_mentions_built_in_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(1, port=_free_port())
    settings.whatsapp.access_token = SecretStr("")
    task = asyncio.create_task(cli.serve(settings))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 'whatsapp.access_token is empty: the sandbox uses "sandbox-access-token"' in (
        capsys.readouterr().out
    )


async def test_inbox_prints_what_the_customer_saw(capsys: pytest.CaptureFixture[str]) -> None:
    async with sandbox_env() as env:
        env.sandbox.say(CUSTOMER, "Hallo", name="Erika")
        await env.sandbox.idle()
        await env.send_text("Guten Tag, wie können wir helfen?")
        await env.send_text("Noch da?", to="4917000000099")  # never wrote: 131047
        await env.sandbox.idle()
        assert await cli.inbox(env.sandbox.base_url, CUSTOMER) == 0
        assert await cli.inbox(env.sandbox.base_url, "+4917000000099") == 0
        assert await cli.read(env.sandbox.base_url, CUSTOMER) == 0
        assert await cli.verify(env.sandbox.base_url) == 0
    out = capsys.readouterr().out
    assert "Chat of …78 (Erika): window open until" in out
    assert "✓✓ read" in out and "'Guten Tag, wie können wir helfen?'" in out
    assert "Chat of …99: window closed" in out
    assert "error 131047: Re-engagement message" in out
    assert "0 message(s) marked read" in out
    assert "verification handshake OK" in out
    assert CUSTOMER_WA_ID not in out


async def test_errors_are_printed_with_exit_code_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli.say("http://127.0.0.1:1", CUSTOMER, "x", None) == 1
    assert "is `empfang sandbox` running?" in capsys.readouterr().err
    async with sandbox_env() as env:
        assert await cli.inbox(env.sandbox.base_url, "not-a-number") == 1
        env.receiver.verify_token = "something else"
        assert await cli.verify(env.sandbox.base_url) == 1
    err = capsys.readouterr().err
    assert "number: expected a phone number" in err
    assert "verification handshake failed" in err and "403" in err
