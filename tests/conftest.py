"""Suite-wide fixtures, and the check that no log line carries a test phone number."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.config import Settings
from bot.logsetup import quiet_libraries
from tests import numbers

if TYPE_CHECKING:
    from tests.support.postgres import PostgresCluster

pytest_plugins = ["tests.support.synapse_fixture", "tests.support.postgres"]


class _Recorder(logging.Handler):
    """Keeps every line the suite logs, as the code wrote it.

    No masking filter is attached here: the production filter is a safety net, and this
    check makes sure the code does not rely on it (nothing logs a number in the first place).
    """

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


_RECORDER = _Recorder()


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(_RECORDER)
    root.setLevel(logging.INFO)
    quiet_libraries("INFO")  # as `empfang run` does
    logging.getLogger("empfang").setLevel(logging.DEBUG)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = [line for line in _RECORDER.lines if any(n in line for n in numbers.ALL)]
    if leaks:
        print("\nLOG LINES WITH A FULL TEST PHONE NUMBER:")
        for line in leaks[:20]:
            print("  ", line[:300])
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


SECRETS: dict[str, str] = {
    "phone_number_id": "106540352242922",
    "access_token": "sandbox-access-token",
    "app_secret": "sandbox-app-secret",
    "verify_token": "sandbox-verify-token",
}


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a bot on loopback with the sandbox as WhatsApp, on a fresh SQLite file."""

    def build(**sections: dict[str, Any]) -> Settings:
        data: dict[str, Any] = {
            "server": {"host": "127.0.0.1", "port": 0},
            "store": {"path": str(tmp_path / "empfang.sqlite3")},
            "whatsapp": {"provider": "sandbox", **SECRETS},
            "sandbox": {"host": "127.0.0.1", "port": 0, "status_delay_seconds": 0.01},
            "privacy": {"pseudonym_key": "test-pseudonym-key-0123456789"},
            "jobs": {"backoff_base_seconds": 0.05, "backoff_max_seconds": 0.5},
        }
        for name, values in sections.items():
            data[name] = {**data.get(name, {}), **values}
        return Settings(**data)

    return build


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a store test opens its ``Store``: a fresh SQLite file, or a fresh database on
    the session's PostgreSQL cluster. Store-centric tests take it to run on both backends."""
    if request.param == "sqlite":
        return tmp_path / "empfang.sqlite3"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()


@pytest.fixture
def another_store_target(store_target: Path | str, request: pytest.FixtureRequest) -> Path | str:
    """A second fresh store on the backend of ``store_target``, for tests comparing two."""
    if isinstance(store_target, Path):
        return store_target.with_name("another.sqlite3")
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()
