"""``check-config --online`` for Matrix against a real Synapse: login, membership, room settings."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from adapters.matrix.online import check_online
from bot.cli import main
from bot.config import MatrixSection, Settings
from bot.demo.synapse import LocalSynapse, MatrixAccount
from bot.sandbox import SandboxServer
from tests.conftest import SECRETS
from tests.matrix.helpers import section
from tests.support.synapse_fixture import NewMatrixUser


async def _api(
    hs: LocalSynapse, account: MatrixAccount, method: str, path: str, body: Any = None
) -> Any:
    async with httpx.AsyncClient(base_url=hs.base_url, trust_env=False) as http:
        response = await http.request(
            method,
            "/_matrix/client/v3" + path,
            json=body,
            headers={"Authorization": f"Bearer {account.access_token}"},
        )
    response.raise_for_status()
    return response.json()


async def _set_state(
    hs: LocalSynapse, account: MatrixAccount, room: str, kind: str, content: dict[str, Any]
) -> None:
    await _api(hs, account, "PUT", f"/rooms/{quote(room, safe='')}/state/{kind}/", content)


async def _room_with_bot(
    hs: LocalSynapse,
    new_user: NewMatrixUser,
    *,
    join: bool = True,
    encrypted: bool = False,
    federate: bool = False,
) -> tuple[MatrixAccount, MatrixAccount, str]:
    agent, bot = await new_user("agent"), await new_user("empfang")
    room = await hs.create_room(
        agent, name="Support", invite=[bot.user_id], encrypted=encrypted, federate=federate
    )
    if join:
        await hs.join_room(bot, room)
    return agent, bot, room


async def test_a_good_setup_has_no_problems_and_reports_the_power_level(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> None:
    agent, bot, room = await _room_with_bot(synapse, new_matrix_user)
    report = await check_online(section(synapse, bot, room, tmp_path))
    assert report.problems == []
    assert report.facts == [f"matrix.room_id: the bot has joined {room}; power level 0"]
    assert report.warnings == [
        "matrix.room_id: the bot's power level 0 is below 50, needed to redact agents' replies; "
        "make it a moderator so retention and erasure remove them too (the bot's own posts "
        "are removed either way)"
    ]

    levels = await _api(
        synapse, agent, "GET", f"/rooms/{quote(room, safe='')}/state/m.room.power_levels/"
    )
    levels["users"][bot.user_id] = 50
    await _set_state(synapse, agent, room, "m.room.power_levels", levels)
    report = await check_online(section(synapse, bot, room, tmp_path))
    assert (report.problems, report.warnings) == ([], [])
    assert report.facts == [f"matrix.room_id: the bot has joined {room}; power level 50"]


async def test_a_public_world_readable_room_is_named(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> None:
    agent, bot, room = await _room_with_bot(synapse, new_matrix_user)
    await _set_state(synapse, agent, room, "m.room.join_rules", {"join_rule": "public"})
    await _set_state(
        synapse,
        agent,
        room,
        "m.room.history_visibility",
        {"history_visibility": "world_readable"},
    )
    report = await check_online(section(synapse, bot, room, tmp_path))
    assert report.problems == [
        f"matrix.room_id: {room} is public: anyone on the homeserver can join and read "
        "customer conversations; make it invite-only"
    ]
    assert report.warnings[0] == (
        f"matrix.room_id: {room}'s history is world_readable: anyone can read it without "
        "joining; set it to members only"
    )


async def test_a_federated_room_is_refused_and_one_without_federation_passes(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> None:
    _, bot, federated = await _room_with_bot(synapse, new_matrix_user, federate=True)
    report = await check_online(section(synapse, bot, federated, tmp_path))
    assert report.problems == [
        f"matrix.room_id: {federated} is federated (m.federate): customer conversations would "
        "be copied to other homeservers; create the room with federation off (Element: block "
        "anyone not part of this server from ever joining)"
    ]

    _, bot, local_only = await _room_with_bot(synapse, new_matrix_user, federate=False)
    create = await _api(
        synapse, bot, "GET", f"/rooms/{quote(local_only, safe='')}/state/m.room.create/"
    )
    assert create["m.federate"] is False
    report = await check_online(section(synapse, bot, local_only, tmp_path))
    assert report.problems == []


async def test_a_room_the_bot_is_not_in_and_one_it_is_only_invited_to(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> None:
    agent, bot, invited_room = await _room_with_bot(synapse, new_matrix_user, join=False)
    report = await check_online(section(synapse, bot, invited_room, tmp_path))
    assert report.problems == []
    assert report.warnings == [
        f"matrix.room_id: the bot is invited to {invited_room} but has not joined; "
        "`empfang run` accepts the invite (run this check again afterwards to see everything)"
    ]

    other_room = await synapse.create_room(agent, name="Elsewhere", invite=[])
    report = await check_online(section(synapse, bot, other_room, tmp_path))
    assert report.problems == [
        f"matrix.room_id: the bot is not in {other_room}; invite {bot.user_id} from the room "
        f"(/invite {bot.user_id})"
    ]


async def test_the_alerts_room_by_id_or_alias(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> None:
    agent, bot, room = await _room_with_bot(synapse, new_matrix_user)
    alerts = await synapse.create_room(agent, name="Alerts", invite=[])
    alias = f"#alerts-{bot.user_id[1:].split(':')[0]}:{synapse.server_name}"
    await _api(
        synapse, agent, "PUT", f"/directory/room/{quote(alias, safe='')}", {"room_id": alerts}
    )
    config = section(synapse, bot, room, tmp_path)

    report = await check_online(config, alerts_room=alias)
    assert report.problems == [
        f"alerts.room: the bot is not in {alerts}; invite {bot.user_id} from the room "
        f"(/invite {bot.user_id})"
    ]

    await _api(
        synapse, agent, "POST", f"/rooms/{quote(alerts, safe='')}/invite", {"user_id": bot.user_id}
    )
    await synapse.join_room(bot, alerts)
    for name in (alias, alerts):
        report = await check_online(config, alerts_room=name)
        assert report.problems == []
        assert report.facts[-1] == f"alerts.room: the bot has joined {alerts}"

    report = await check_online(config, alerts_room=f"#nothing:{synapse.server_name}")
    (line,) = report.problems
    assert line.startswith(
        f"alerts.room: no room has the alias #nothing:{synapse.server_name} (M_NOT_FOUND"
    )


async def test_wrong_credentials_are_named_by_key(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> None:
    agent, bot, room = await _room_with_bot(synapse, new_matrix_user)

    wrong_token = section(synapse, bot, room, tmp_path, access_token=SecretStr("syt_wrong"))
    report = await check_online(wrong_token)
    assert report.problems == [
        "matrix.access_token: rejected by the homeserver (M_UNKNOWN_TOKEN: "
        "Invalid access token passed.)"
    ]

    someone_else = section(synapse, bot, room, tmp_path, access_token=SecretStr(agent.access_token))
    report = await check_online(someone_else)
    assert report.problems == [
        f"matrix.access_token: belongs to {agent.user_id}, not matrix.user_id {bot.user_id}"
    ]

    wrong_password = section(
        synapse, bot, room, tmp_path, use_token=False, password=SecretStr("not-it")
    )
    report = await check_online(wrong_password)
    assert report.problems == [
        f"matrix.password: login as {bot.user_id} failed (M_FORBIDDEN: Invalid username or "
        "password)"
    ]


async def test_password_login_leaves_no_device_behind(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> None:
    _, bot, room = await _room_with_bot(synapse, new_matrix_user)
    before = await _api(synapse, bot, "GET", "/devices")

    report = await check_online(section(synapse, bot, room, tmp_path, use_token=False))
    assert report.problems == []
    assert report.facts == [f"matrix.room_id: the bot has joined {room}; power level 0"]
    assert await _api(synapse, bot, "GET", "/devices") == before


async def test_encryption_must_match_the_room(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> None:
    _, bot, encrypted_room = await _room_with_bot(synapse, new_matrix_user, encrypted=True)
    report = await check_online(section(synapse, bot, encrypted_room, tmp_path))
    assert report.problems == [
        f"matrix.encryption: false, but {encrypted_room} is encrypted: the bot could not read "
        "agents' replies; set matrix.encryption = true (with matrix.pickle_key)"
    ]
    report = await check_online(section(synapse, bot, encrypted_room, tmp_path, encryption=True))
    assert report.problems == []

    _, bot, plain_room = await _room_with_bot(synapse, new_matrix_user)
    report = await check_online(section(synapse, bot, plain_room, tmp_path, encryption=True))
    assert report.problems == [
        f"matrix.encryption: true, but {plain_room} is not encrypted; set matrix.encryption = "
        "false or turn on encryption in the room"
    ]


async def test_an_unreachable_homeserver_is_named() -> None:
    offline = "http://127.0.0.1:9"  # the discard port: nothing listens
    report = await check_online(
        MatrixSection(
            homeserver=offline,
            user_id="@empfang:localhost",
            access_token=SecretStr("syt_any"),
            room_id="!room:localhost",
        )
    )
    (line,) = report.problems
    assert line.startswith(f"matrix.homeserver: cannot reach {offline} (")


async def test_the_cli_checks_whatsapp_and_matrix_together(
    synapse: LocalSynapse,
    new_matrix_user: NewMatrixUser,
    make_settings: Callable[..., Settings],
    tmp_path: Path,
) -> None:
    _, bot, room = await _room_with_bot(synapse, new_matrix_user)
    async with SandboxServer(make_settings(sandbox={"redelivery_seconds": []}), port=0) as wa:
        config = tmp_path / "empfang.toml"
        config.write_text(
            f"""
[whatsapp]
provider = "sandbox"
api_base = "{wa.graph_url}"
waba_id = "{wa.business.waba_id}"
{"".join(f'{key} = "{value}"{chr(10)}' for key, value in SECRETS.items())}
[chat]
platform = "matrix"
[matrix]
homeserver = "{synapse.base_url}"
user_id = "{bot.user_id}"
access_token = "{bot.access_token}"
room_id = "{room}"
store_path = "{tmp_path / "store"}"
[privacy]
pseudonym_key = "test-pseudonym-key-0123456789"
""",
            encoding="utf-8",
        )
        out, err = io.StringIO(), io.StringIO()

        def run() -> int:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                return main(["check-config", "--config", str(config), "--online"])

        assert await asyncio.to_thread(run) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("ok: whatsapp.phone_number_id: ")
    assert lines[-2:] == [
        f"ok: matrix.room_id: the bot has joined {room}; power level 0",
        "config OK",
    ]
    assert err.getvalue().startswith("warning: matrix.room_id: the bot's power level 0 is below 50")
