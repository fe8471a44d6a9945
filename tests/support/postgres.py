"""A throwaway PostgreSQL cluster for the tests, from Debian's server packages.

``initdb`` refuses to run as root, and tests and CI run as root: so the cluster belongs to
an unprivileged system user (``empfang-test``, created if missing) and its programs run
through ``runuser``. The data directory lives in a temporary directory the user owns; the
server listens on loopback and on a unix socket there, on a free port, with ``fsync`` off
(a throwaway cluster need not survive power loss). One cluster serves the whole session;
each test gets a database of its own (:meth:`PostgresCluster.new_database`).

Loaded as a pytest plugin (``tests/conftest.py``) it gives the session fixture
``postgres``: skipped with its reason where the server programs are not installed, an error
under CI (``CI`` set), which must test both backends (``.ci/run`` installs them).

Run alone (``python -m tests.support.postgres``) it starts a cluster and prints its URL
until interrupted: handy for trying SQL by hand.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

USER = "empfang-test"
"""The unprivileged owner of the test cluster (initdb refuses root)."""

_numbers = itertools.count(1)


class PostgresMissing(RuntimeError):
    """No PostgreSQL server programs here (Debian: ``apt-get install postgresql``)."""


def server_bin() -> Path:
    """The newest installed ``/usr/lib/postgresql/<v>/bin`` holding ``initdb``."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if not found:
        raise PostgresMissing("no /usr/lib/postgresql/*/bin/initdb: apt-get install postgresql")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ensure_user() -> None:
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
        )


def _as_owner(args: list[str]) -> list[str]:
    """``args`` run as the cluster's owner: root cannot run initdb or the server."""
    if os.geteuid() == 0:
        _ensure_user()
        return ["runuser", "-u", USER, "--", *args]
    return args


class PostgresCluster:
    """A running cluster; ``url(db)`` names one of its databases."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.socket_dir = root / "socket"
        self._bin = server_bin()

    def _run(self, *args: str) -> None:
        subprocess.run(
            _as_owner([str(self._bin / args[0]), *args[1:]]),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd="/",
        )

    def start(self) -> None:
        if os.geteuid() == 0:
            _ensure_user()
            shutil.chown(self.root, USER)
        self.root.chmod(0o700)
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.socket_dir, USER)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        self.start_server()

    def start_server(self) -> None:
        """Start the initialised cluster (again, after :meth:`stop`)."""
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port}"
            f" -c unix_socket_directories={self.socket_dir}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        """``fast``: as an orderly restart does (sessions ended, a checkpoint)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a fresh, empty database (one per test keeps tests independent)."""
        name = f"t{os.getpid()}_{next(_numbers)}"
        psql = [str(self._bin / "psql"), "-h", str(self.socket_dir), "-p", str(self.port)]
        psql += ["-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1"]
        subprocess.run(
            _as_owner([*psql, "-c", f"CREATE DATABASE {name}"]),
            check=True,
            cwd="/",
            stdout=subprocess.DEVNULL,
        )
        return self.url(name)


_PREFIX = "empfang-pg-"


def _stop_orphans() -> None:
    """Stop the clusters of test sessions that were killed (a timeout, SIGKILL) before they
    could stop theirs: ``pg_ctl`` runs the server apart from the session, so it would be
    left running. A cluster whose session is alive is left alone."""
    for owner in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*/owner.pid"):
        try:
            os.kill(int(owner.read_text()), 0)
            continue
        except ProcessLookupError:
            pass
        except (ValueError, OSError):
            continue
        root = owner.parent
        if (root / "data" / "postmaster.pid").exists():
            subprocess.run(
                _as_owner(
                    [
                        str(server_bin() / "pg_ctl"),
                        "-D",
                        str(root / "data"),
                        "-m",
                        "immediate",
                        "stop",
                    ]
                ),
                check=False,
                capture_output=True,
                cwd="/",
            )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """Start a cluster in a temporary directory; stop and remove it afterwards."""
    _stop_orphans()
    root = Path(tempfile.mkdtemp(prefix=_PREFIX))
    (root / "owner.pid").write_text(str(os.getpid()))
    cluster = PostgresCluster(root, _free_port())
    try:
        cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One running cluster for the session; tests take databases of their own from it."""
    try:
        server_bin()
    except PostgresMissing as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    with postgres_cluster() as cluster:
        yield cluster


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped like Ctrl-C: cleaned up
    with postgres_cluster() as running:
        print(running.url(), flush=True)
        with suppress(KeyboardInterrupt):
            signal.pause()
