"""A throwaway PostgreSQL cluster for ``tests/ha`` until the suite-wide one
(``tests.support.postgres``) is committed; same approach: Debian's server, ``initdb`` as an
unprivileged user through ``runuser`` (CI runs as root), a free loopback port, removed after.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

USER = "empfang-test"


def _as_owner(args: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return args
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", USER], check=True)
    return ["runuser", "-u", USER, "--", *args]


class Cluster:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="empfang-ha-pg-"))
        self.data = self.root / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
        if os.geteuid() == 0:
            _as_owner([])
            shutil.chown(self.root, USER)

    def pg_ctl(self, *args: str) -> None:
        command = [str(self._bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log")]
        subprocess.run(
            _as_owner([*command, "-w", *args]), check=True, cwd="/", stdout=subprocess.DEVNULL
        )

    def start(self) -> None:
        subprocess.run(
            _as_owner([str(self._bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                       "--auth=trust", "--no-sync"]),
            check=True, cwd="/", stdout=subprocess.DEVNULL,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories="
        self.pg_ctl("-o", options + " -c fsync=off", "start")

    def restart(self) -> None:
        self.pg_ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def pg() -> Iterator[Cluster]:
    """A cluster of the test's own: tests here restart it and fill its lease table."""
    cluster = Cluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
