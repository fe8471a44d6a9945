"""``[media] keep_days``: no copy by default; with days, private stripped copies, aged out."""

from __future__ import annotations

import stat
from pathlib import Path

from bot.clock import ManualClock
from bot.media.keep import DAY, MediaKeeper, kept_folder
from tests.media.customer import send_file
from tests.media.images import metadata_left, phone_photo
from tests.slack.conftest import StartStack
from tests.slack.stack import wait_for


def test_copies_are_private_and_deleted_after_keep_days(tmp_path: Path) -> None:
    clock = ManualClock()
    keeper = MediaKeeper(kept_folder(tmp_path / "empfang.sqlite3"), 2, clock)
    source = tmp_path / "stripped"
    source.write_bytes(b"picture")
    first = keeper.keep(source, 7, "photo.jpg")
    assert first.read_bytes() == b"picture" and first.name == "7-photo.jpg"
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE(keeper.folder.stat().st_mode) == 0o700
    clock.advance(2 * DAY - 1)
    second = keeper.keep(source, 8, "scan.pdf")
    assert first.exists()
    clock.advance(2)
    assert keeper.purge() == 1
    assert not first.exists() and second.exists()


async def test_the_bot_keeps_a_stripped_copy_only_when_told(
    fast_slack: None, start_stack: StartStack
) -> None:
    keeping = await start_stack("socket", media={"keep_days": 30})
    plain = await start_stack("socket")
    for stack in (keeping, plain):
        assert stack.sandbox is not None
        send_file(stack.sandbox, "image", phone_photo(), "image/jpeg")
        await wait_for(stack.fake.files.shared, 20)
        await stack.settled()
    # Both stacks live in one data folder: of the two files relayed, one copy is kept.
    assert keeping.settings is not None
    kept = sorted(kept_folder(keeping.settings.store.path).iterdir())
    assert len(kept) == 1 and metadata_left(kept[0].read_bytes()) == []
