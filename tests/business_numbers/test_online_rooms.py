"""``check-config --online`` checks every number's Matrix room, each under its own key."""

from __future__ import annotations

from pathlib import Path

from adapters.matrix.online import check_online
from bot.demo.synapse import LocalSynapse
from tests.matrix.helpers import section
from tests.support.synapse_fixture import NewMatrixUser


async def test_each_numbers_room_is_judged_under_its_key(
    synapse: LocalSynapse, new_matrix_user: NewMatrixUser, tmp_path: Path
) -> None:
    agent, bot = await new_matrix_user("agent"), await new_matrix_user("empfang")
    workshop = await synapse.create_room(agent, name="Werkstatt", invite=[bot.user_id])
    await synapse.join_room(bot, workshop)
    sales = await synapse.create_room(agent, name="Verkauf", invite=[])
    report = await check_online(
        section(synapse, bot, workshop, tmp_path),
        rooms=[("numbers[0].room", workshop), ("numbers[1].room", sales)],
        alert_rooms=[("numbers[1].alerts_room", sales)],
    )
    assert report.facts == [f"matrix.room_id: the bot has joined {workshop}; power level 0"]
    assert report.problems == [
        f"numbers[1].room: the bot is not in {sales}; invite {bot.user_id} from the room "
        f"(/invite {bot.user_id})"
    ]
