"""The local Synapse launcher works, so a red end-to-end test means the bot, not the fixture.

Messages are sent and read with plain httpx on purpose: if these pass, the homeserver, its
config (rate limits, admin API) and the launcher's lifecycle are sound without nio involved.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from bot.demo.synapse import (
    LocalSynapse,
    MatrixAccount,
    MatrixAPIError,
    SynapseStartError,
)
from tests.support.synapse_fixture import NewMatrixUser


def _auth(account: MatrixAccount) -> dict[str, str]:
    return {"Authorization": f"Bearer {account.access_token}"}


async def _room_messages(
    http: httpx.AsyncClient, account: MatrixAccount, room_id: str
) -> list[dict[str, Any]]:
    response = await http.get(
        f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/messages",
        params={"dir": "b", "limit": "20"},
        headers=_auth(account),
    )
    response.raise_for_status()
    chunk: list[dict[str, Any]] = response.json()["chunk"]
    return chunk


async def test_two_users_talk_in_a_private_room(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser
) -> None:
    alice = await new_matrix_user("alice", admin=True)
    bob = await new_matrix_user("bob")
    assert alice.user_id.endswith(f":{synapse.server_name}")
    assert alice.device_id and bob.access_token != alice.access_token

    room_id = await synapse.create_room(alice, name="Empfang launcher", invite=[bob.user_id])
    assert await synapse.join_room(bob, room_id) == room_id

    async with httpx.AsyncClient(base_url=synapse.base_url, trust_env=False) as http:
        sent = await http.put(
            f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/send/m.room.message/t1",
            headers=_auth(bob),
            json={"msgtype": "m.text", "body": "Grüß Gott"},
        )
        sent.raise_for_status()
        event_id = sent.json()["event_id"]

        events = await _room_messages(http, alice, room_id)

    message = next(e for e in events if e["event_id"] == event_id)
    assert message["sender"] == bob.user_id
    assert message["content"]["body"] == "Grüß Gott"
    name = next(e for e in events if e["type"] == "m.room.name")
    assert name["content"]["name"] == "Empfang launcher"


async def test_encrypted_room_has_megolm_state(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser
) -> None:
    owner = await new_matrix_user("owner")
    room_id = await synapse.create_room(owner, name="secret", invite=[], encrypted=True)
    async with httpx.AsyncClient(base_url=synapse.base_url, trust_env=False) as http:
        response = await http.get(
            f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/state/m.room.encryption/",
            headers=_auth(owner),
        )
    response.raise_for_status()
    assert response.json()["algorithm"] == "m.megolm.v1.aes-sha2"


async def test_rate_limits_are_lifted(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser
) -> None:
    # Synapse's defaults allow about three logins and ten messages in a burst; a suite that
    # logs in per test would otherwise start getting 429s.
    user = await new_matrix_user("busy")
    localpart = user.user_id[1:].split(":")[0]
    for n in range(12):
        again = await synapse.login(localpart, user.password, device_id=f"DEV{n}")
        assert again.device_id == f"DEV{n}"
    room_id = await synapse.create_room(user, name="chatty", invite=[])
    event_ids = {
        await synapse.send_message(user, room_id, {"msgtype": "m.text", "body": str(n)})
        for n in range(30)
    }
    assert len(event_ids) == 30


async def test_registering_a_taken_name_is_a_clear_error(synapse: LocalSynapse) -> None:
    await synapse.register_user("dupe", "pw1")
    with pytest.raises(MatrixAPIError) as caught:
        await synapse.register_user("dupe", "pw2")
    assert caught.value.status == 400
    assert caught.value.errcode == "M_USER_IN_USE"


async def test_restart_keeps_port_data_and_tokens(private_synapse: LocalSynapse) -> None:
    hs = private_synapse
    carol = await hs.register_user("carol", "pw")
    room_id = await hs.create_room(carol, name="before restart", invite=[])
    port, base_url = hs.port, hs.base_url

    await hs.stop()
    assert not hs.running
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/_matrix/client/versions")

    await hs.start()
    assert hs.running
    assert (hs.port, hs.base_url) == (port, base_url)
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as http:
        whoami = await http.get("/_matrix/client/v3/account/whoami", headers=_auth(carol))
        whoami.raise_for_status()
        assert whoami.json()["user_id"] == carol.user_id
        assert whoami.json()["device_id"] == carol.device_id

        event_id = await hs.send_message(
            carol, room_id, {"msgtype": "m.text", "body": "still here"}
        )
        events = await _room_messages(http, carol, room_id)
    assert [e["content"]["body"] for e in events if e["event_id"] == event_id] == ["still here"]


async def test_taken_port_fails_fast_with_the_reason(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        hs = LocalSynapse(tmp_path / "synapse", port=port)
        with pytest.raises(SynapseStartError, match=f"port {port} on 127.0.0.1 is already in use"):
            await hs.start()
        assert not hs.running
