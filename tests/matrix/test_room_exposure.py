"""``empfang run`` judges the support room again when Matrix starts (privacy.md item 8), as
``check-config --online`` does, from one read of the room's state (which also gives the
power levels the start needs): a room made public or federated is named in warnings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.demo.synapse import LocalSynapse
from tests.matrix.conftest import StartPlatform
from tests.matrix.helpers import RoomReader, section
from tests.support.synapse_fixture import NewMatrixUser


@pytest.mark.parametrize("exposed", [True, False], ids=["public-federated", "private"])
async def test_a_public_or_federated_room_is_warned_about_at_start(
    synapse: LocalSynapse,
    new_matrix_user: NewMatrixUser,
    start_platform: StartPlatform,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    exposed: bool,
) -> None:
    agent, bot = await new_matrix_user("agent"), await new_matrix_user("empfang")
    room = await synapse.create_room(agent, name="Support", invite=[bot.user_id], federate=exposed)
    if exposed:
        reader = RoomReader(synapse, agent, room)
        await reader.put_state("m.room.join_rules", {"join_rule": "public"})
        await reader.aclose()
    with caplog.at_level(logging.WARNING, logger="empfang.matrix"):
        await start_platform(section(synapse, bot, room, tmp_path / "store"))
    said = " ".join(r.getMessage() for r in caplog.records)
    assert (f"{room} is public" in said) is exposed
    assert (f"{room} is federated" in said) is exposed
