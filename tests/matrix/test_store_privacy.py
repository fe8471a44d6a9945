"""The Matrix store (session file, nio's E2EE key store) is private whatever the umask.

nio creates its key store itself, with the umask's mode; the tokens and keys in it let anyone
who can read them act as the bot and read the encrypted support room.
"""

from __future__ import annotations

import pytest

from tests.matrix.conftest import StartPlatform, Team
from tests.support.umask import UMASKS, mode, umask


@pytest.mark.parametrize("value", UMASKS, ids=oct)
async def test_matrix_store_files_are_private(
    team: Team, start_platform: StartPlatform, value: int
) -> None:
    store = team.store / "nested"
    with umask(value):
        await start_platform(team.section(encryption=True).model_copy(update={"store_path": store}))
    files = {path.name: mode(path) for path in store.iterdir()}
    assert any(name.endswith(".db") for name in files), files  # nio's key store exists
    assert set(files.values()) == {0o600}, files
    assert mode(store) == 0o700
    assert mode(store.parent) == 0o700
