"""``empfang demo``'s script on a real Synapse: two numbers, each in a room of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo.run import SALES_ANSWER, demo_rooms, demo_settings, scripted
from bot.demo.stack import Stack
from bot.demo.synapse import LocalSynapse


async def test_the_demo_shows_two_numbers_routed_to_two_rooms(
    synapse: LocalSynapse, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rooms = await demo_rooms(synapse, tag="")  # the session's Synapse has others
    async with Stack(demo_settings(tmp_path, rooms)) as stack:
        assert await scripted(stack, rooms) == 0
    printed = capsys.readouterr().out
    assert "room Customer support (Werkstatt): 1 thread" in printed
    assert "room Sales (Verkauf): 1 thread" in printed
    assert f"the customer's chat with the sales number shows: {SALES_ANSWER}" in printed
