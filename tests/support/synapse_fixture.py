"""Pytest plugin giving tests a real local Synapse.

Load it from tests/conftest.py with ``pytest_plugins = ["tests.support.synapse_fixture"]``.

One homeserver is shared by the whole session because starting Synapse costs one to two
seconds and about 120 MB; tests stay independent by registering their own users
(``new_matrix_user``) and rooms. A test that stops or restarts the homeserver must use
``private_synapse`` instead, so it cannot break the tests that run after it.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.demo.synapse import LocalSynapse, MatrixAccount

NewMatrixUser = Callable[..., Awaitable[MatrixAccount]]

_user_numbers = itertools.count(1)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def synapse(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalSynapse]:
    """A running homeserver shared by all tests of the session; do not stop it."""
    async with LocalSynapse(tmp_path_factory.mktemp("synapse")) as hs:
        yield hs


@pytest_asyncio.fixture(loop_scope="session")
async def private_synapse(tmp_path: Path) -> AsyncIterator[LocalSynapse]:
    """A homeserver of this test alone, free to be stopped and started again."""
    async with LocalSynapse(tmp_path / "synapse") as hs:
        yield hs


@pytest.fixture
def new_matrix_user(synapse: LocalSynapse) -> NewMatrixUser:
    """Register users with names unique in the session, on the shared homeserver.

    Call it as ``await new_matrix_user("agent", admin=False)``; the number appended to the
    prefix keeps tests from colliding on the shared server however they are ordered.
    """

    async def make(prefix: str = "user", *, admin: bool = False) -> MatrixAccount:
        username = f"{prefix.lower()}{next(_user_numbers)}"
        return await synapse.register_user(username, secrets.token_urlsafe(12), admin=admin)

    return make


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the homeserver's log to a failed test, since the cause is usually in there."""
    report = yield
    if report.failed:
        funcargs = getattr(item, "funcargs", {})
        for name in ("synapse", "private_synapse"):
            hs = funcargs.get(name)
            if isinstance(hs, LocalSynapse):
                report.sections.append((f"{name} log ({hs.log_path})", hs.log_tail()))
    return report
