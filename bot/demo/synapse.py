"""A real Synapse homeserver on loopback, started and stopped from Python.

The demo and the end-to-end tests talk to a real Synapse rather than a mock because the Matrix
adapter's hard parts (thread relations, E2EE, a homeserver that goes away and comes back) are
exactly what a mock would have to guess. Synapse is a pip dependency of the ``demo`` and
``dev`` extras, so this needs no container and no network: it runs Synapse with the current
interpreter, on 127.0.0.1, with SQLite, in a folder the caller owns.

Typical use::

    async with LocalSynapse(tmp_path) as hs:
        alice = await hs.register_user("alice", "pw", admin=True)
        bob = await hs.register_user("bob", "pw")
        room_id = await hs.create_room(alice, name="Support", invite=[bob.user_id])
        await hs.join_room(bob, room_id)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

__all__ = [
    "LocalSynapse",
    "MatrixAPIError",
    "MatrixAccount",
    "SynapseStartError",
]

SERVER_NAME = "localhost"
MEGOLM_ALGORITHM = "m.megolm.v1.aes-sha2"

_DEFAULT_STARTUP_TIMEOUT = 60.0
_STOP_GRACE_SECONDS = 10.0
_KEYGEN_TIMEOUT = 120.0
_LOG_TAIL_LINES = 50
_PORT_ATTEMPTS = 3
_POLL_INTERVAL = 0.1

# Every rate limiter Synapse reads (module synapse.config.ratelimiting). Left at their defaults,
# the sixth login or the eleventh quick message from 127.0.0.1 is answered with 429 for minutes,
# which turns a fast test suite into a flaky, slow one. Nested keys are "section.subkey".
_RATE_LIMITERS = (
    "rc_message",
    "rc_registration",
    "rc_registration_token_validity",
    "rc_login.address",
    "rc_login.account",
    "rc_login.failed_attempts",
    "rc_admin_redaction",
    "rc_joins.local",
    "rc_joins.remote",
    "rc_joins_per_room",
    "rc_key_requests",
    "rc_3pid_validation",
    "rc_invites.per_room",
    "rc_invites.per_user",
    "rc_invites.per_issuer",
    "rc_third_party_invite",
    "rc_media_create",
    "rc_presence.per_user",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_reports",
    "rc_user_directory",
    "rc_profile",
)
_UNLIMITED = {"per_second": 100_000, "burst_count": 100_000}

# Run Synapse through a tiny bootstrap instead of plain ``-m`` so that it dies with us: on Linux
# PR_SET_PDEATHSIG sends it SIGTERM if the launching process is killed (pytest timeout, kill -9
# of the demo), instead of leaving an orphan that holds the port and 130 MB of memory.
_BOOTSTRAP = """\
# empfang: LocalSynapse launcher (python -m synapse.app.homeserver that dies with its parent)
import ctypes, os, runpy, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit("empfang: the launching process is gone; not starting Synapse")
sys.argv = ["synapse.app.homeserver", *sys.argv[2:]]
runpy.run_module("synapse.app.homeserver", run_name="__main__", alter_sys=True)
"""


class SynapseStartError(RuntimeError):
    """Synapse could not be set up or did not come up.

    The message carries the tail of Synapse's log, because that is where the cause is (bad
    config, port taken, missing dependency) and a test failure should show it without a search.
    """


class MatrixAPIError(RuntimeError):
    """The homeserver answered a setup call with an error.

    Kept apart from the bot's ``PlatformError`` on purpose: this is tooling for demos and tests,
    and a failure here means the fixture is wrong, not that the bot should retry.
    """

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.errcode: str | None = None
        message = ""
        if isinstance(body, dict):
            self.errcode = body.get("errcode")
            message = str(body.get("error", ""))
        elif body:
            message = str(body)[:500]
        super().__init__(f"{method} {path} -> HTTP {status} {self.errcode or ''} {message}".strip())


@dataclass(frozen=True)
class MatrixAccount:
    """A user on the local homeserver, with everything a client needs to act as it.

    The password is kept so a test can log in again (a new device) after a restart; the token
    and password stay out of ``repr`` so they do not end up in CI logs.
    """

    user_id: str
    access_token: str = field(repr=False)
    device_id: str
    password: str = field(repr=False)


def _free_port() -> int:
    """Ask the kernel for a free loopback port.

    There is a window between closing this socket and Synapse binding the port; ``start`` covers
    it by retrying with another port when Synapse reports the address as taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = _LOG_TAIL_LINES, *, since: int = 0) -> str:
    """The last ``lines`` lines of ``path`` written at or after byte offset ``since``."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(since, size - 256 * 1024))
            data = f.read()
    except OSError as exc:
        return f"(log {path} unreadable: {exc})"
    text = data.decode("utf-8", errors="replace").splitlines()[-lines:]
    return "\n".join(text) if text else "(log is empty)"


def _log_contains(path: Path, needle: str, since: int) -> bool:
    """Whether the log written since ``since`` mentions ``needle``, beyond the shown tail too."""
    try:
        with path.open("rb") as f:
            f.seek(since)
            return needle.encode() in f.read(8 * 1024 * 1024)
    except OSError:
        return False


def _require_synapse() -> None:
    """Fail with an install hint instead of a ModuleNotFoundError buried in a child's log."""
    if importlib.util.find_spec("synapse") is None:
        raise SynapseStartError(
            f"matrix-synapse is not installed for {sys.executable}; "
            "install the demo extra: pip install -e '.[demo]'"
        )


class LocalSynapse:
    """A throwaway Synapse on 127.0.0.1 whose data lives in ``workdir``.

    ``stop()`` and ``start()`` may be called repeatedly: the port, the secrets and the database
    are kept, so access tokens issued before a stop keep working after the next start. That is
    what a "homeserver down, then back" test needs.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        startup_timeout: float = _DEFAULT_STARTUP_TIMEOUT,
    ) -> None:
        self._workdir = Path(workdir).resolve()
        self._port = port
        self._startup_timeout = startup_timeout
        # Generated once per instance so a restart does not change what clients were told.
        self._registration_secret = secrets.token_urlsafe(32)
        self._macaroon_secret = secrets.token_urlsafe(32)
        self._form_secret = secrets.token_urlsafe(32)
        self._process: asyncio.subprocess.Process | None = None
        self._http: httpx.AsyncClient | None = None
        # A start racing a stop (say, a test's background task against fixture teardown) must
        # not leave two Synapse processes fighting over one port and one SQLite file.
        self._lifecycle = asyncio.Lock()

    # -- properties ---------------------------------------------------------------------------

    @property
    def server_name(self) -> str:
        """The part after the colon in user ids; fixed so ids are predictable in tests."""
        return SERVER_NAME

    @property
    def port(self) -> int:
        """The loopback port; chosen on the first ``start()`` when not given."""
        if self._port is None:
            raise RuntimeError("LocalSynapse has no port before its first start()")
        return self._port

    @property
    def base_url(self) -> str:
        """Homeserver URL for clients (no trailing slash); stable across stop/start."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def workdir(self) -> Path:
        return self._workdir

    @property
    def config_path(self) -> Path:
        return self._workdir / "homeserver.yaml"

    @property
    def log_path(self) -> Path:
        """Synapse's stdout and stderr, appended across restarts; read it when a test fails."""
        return self._workdir / "homeserver.log"

    @property
    def pid(self) -> int | None:
        """PID of the running Synapse, for measurements; None while stopped."""
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        """True while the Synapse process started by us is alive (it may have crashed since)."""
        return self._process is not None and self._process.returncode is None

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The end of Synapse's log, for attaching to a failed test's report."""
        return _tail(self.log_path, lines)

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start Synapse and return once it answers client requests.

        A no-op while it is already running. Raises ``SynapseStartError`` with the log tail if
        Synapse exits or does not answer within the startup timeout.
        """
        async with self._lifecycle:
            if self.running:
                return
            _require_synapse()
            await self._start_locked()

    async def _start_locked(self) -> None:
        self._workdir.mkdir(parents=True, exist_ok=True)
        (self._workdir / "media_store").mkdir(exist_ok=True)
        # Only a port we picked ourselves may be swapped for another one: a caller-given port,
        # or the port of a restart, is a promise to clients that must be kept or fail loudly.
        retry_port = self._port is None
        attempts = _PORT_ATTEMPTS if retry_port else 1
        for attempt in range(1, attempts + 1):
            port = self._port if self._port is not None else _free_port()
            self._write_config(port)
            await self._generate_keys_once()
            try:
                self._process = await self._launch(port)
            except _PortTakenError as exc:
                if attempt < attempts:
                    continue
                raise SynapseStartError(str(exc)) from None
            self._port = port
            return

    async def stop(self) -> None:
        """Stop Synapse: SIGTERM, then SIGKILL if it has not exited after 10 seconds.

        Safe to call when it is already stopped or has crashed. Data and port are kept for the
        next ``start()``.
        """
        async with self._lifecycle:
            if self._http is not None:
                await self._http.aclose()
                self._http = None
            process, self._process = self._process, None
            if process is not None:
                await _terminate(process)

    # -- setup helpers (client-server and admin API) ------------------------------------------

    async def register_user(
        self, username: str, password: str, *, admin: bool = False
    ) -> MatrixAccount:
        """Create a user through the shared-secret admin API.

        Open registration stays off (a homeserver that anyone on the machine could sign up to is
        a bad default even on loopback), so users are made with the registration secret that only
        this process knows. ``username`` is the localpart, e.g. ``"alice"``.
        """
        path = "/_synapse/admin/v1/register"
        nonce = str((await self._request("GET", path))["nonce"])
        mac = hmac.new(self._registration_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), username.encode(), password.encode()]))
        mac.update(b"\x00admin" if admin else b"\x00notadmin")
        body = await self._request(
            "POST",
            path,
            json={
                "nonce": nonce,
                "username": username,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        return MatrixAccount(
            user_id=str(body["user_id"]),
            access_token=str(body["access_token"]),
            device_id=str(body["device_id"]),
            password=password,
        )

    async def login(
        self, username: str, password: str, *, device_id: str | None = None
    ) -> MatrixAccount:
        """Log in with a password, e.g. to get a second device or to reuse a demo's users."""
        payload: dict[str, Any] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": username},
            "password": password,
        }
        if device_id is not None:
            payload["device_id"] = device_id
        body = await self._request("POST", "/_matrix/client/v3/login", json=payload)
        return MatrixAccount(
            user_id=str(body["user_id"]),
            access_token=str(body["access_token"]),
            device_id=str(body["device_id"]),
            password=password,
        )

    async def create_room(
        self,
        account: MatrixAccount,
        *,
        name: str,
        invite: list[str],
        encrypted: bool = False,
        federate: bool = False,
    ) -> str:
        """Create a private room as ``account`` and invite users; returns the room id.

        ``private_chat`` is the preset a real support team would use (invite-only, shared
        history), and federation is off (``m.federate``, fixed at creation) because
        ``check-config --online`` refuses a federated support room: the bot is tested, and
        the demo runs, in the kind of room its own check accepts.
        """
        payload: dict[str, Any] = {
            "preset": "private_chat",
            "name": name,
            "invite": invite,
            "creation_content": {"m.federate": federate},
        }
        if encrypted:
            payload["initial_state"] = [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": MEGOLM_ALGORITHM},
                }
            ]
        body = await self._request(
            "POST", "/_matrix/client/v3/createRoom", account=account, json=payload
        )
        return str(body["room_id"])

    async def join_room(self, account: MatrixAccount, room_id: str) -> str:
        """Join (or accept the invite to) ``room_id`` as ``account``; returns the room id."""
        body = await self._request(
            "POST", f"/_matrix/client/v3/join/{quote(room_id, safe='')}", account=account, json={}
        )
        return str(body["room_id"])

    async def send_message(
        self,
        account: MatrixAccount,
        room_id: str,
        content: dict[str, Any],
        *,
        event_type: str = "m.room.message",
        txn_id: str | None = None,
    ) -> str:
        """Send an unencrypted event as ``account`` (e.g. an agent replying in a thread).

        Returns the event id. Pass ``txn_id`` to test idempotent retries; by default each call
        is a new transaction.
        """
        txn = txn_id or f"empfang-{time.time_ns()}-{secrets.token_hex(4)}"
        path = (
            f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}"
            f"/send/{quote(event_type, safe='')}/{quote(txn, safe='')}"
        )
        body = await self._request("PUT", path, account=account, json=content)
        return str(body["event_id"])

    # -- internals ----------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if not self.running:
            raise RuntimeError("LocalSynapse is not running; call start() first")
        if self._http is None:
            # trust_env=False: an HTTP(S)_PROXY in the environment must not capture loopback.
            self._http = httpx.AsyncClient(base_url=self.base_url, timeout=30.0, trust_env=False)
        return self._http

    async def _request(
        self,
        method: str,
        path: str,
        *,
        account: MatrixAccount | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {account.access_token}"} if account else {}
        response = await self._client().request(method, path, headers=headers, json=json)
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        if response.is_error or not isinstance(body, dict):
            raise MatrixAPIError(method, path, response.status_code, body)
        return body

    def _write_config(self, port: int) -> None:
        """Write homeserver.yaml; rewritten on each start so a changed port is picked up."""
        d = self._workdir
        config: dict[str, Any] = {
            "server_name": SERVER_NAME,
            "public_baseurl": f"http://127.0.0.1:{port}/",
            "pid_file": str(d / "homeserver.pid"),
            "listeners": [
                {
                    "port": port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    # "client" also serves /_synapse/admin; no "federation" resource at all.
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(d / "homeserver.db")}},
            "media_store_path": str(d / "media_store"),
            "signing_key_path": str(d / f"{SERVER_NAME}.signing.key"),
            "report_stats": False,
            "enable_metrics": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "allow_public_rooms_over_federation": False,
            "url_preview_enabled": False,
            "enable_registration": False,
            "registration_shared_secret": self._registration_secret,
            "macaroon_secret_key": self._macaroon_secret,
            "form_secret": self._form_secret,
            "bcrypt_rounds": 4,
            "presence": {"enabled": False},
        }
        for limiter in _RATE_LIMITERS:
            section, _, sub = limiter.partition(".")
            if sub:
                config.setdefault(section, {})[sub] = dict(_UNLIMITED)
            else:
                config[section] = dict(_UNLIMITED)
        header = (
            "# Written by Empfang's LocalSynapse for a throwaway loopback homeserver.\n"
            "# Rewritten on every start; not a production configuration. (JSON is valid YAML.)\n"
        )
        tmp = self.config_path.with_suffix(".yaml.tmp")
        tmp.write_text(header + json.dumps(config, indent=2) + "\n", encoding="utf-8")
        tmp.chmod(0o600)  # it holds the registration secret
        tmp.replace(self.config_path)

    async def _generate_keys_once(self) -> None:
        """Create the signing key with Synapse's own tool, the first time only."""
        if (self._workdir / f"{SERVER_NAME}.signing.key").exists():
            return
        cmd = [
            sys.executable,
            "-m",
            "synapse.app.homeserver",
            "-c",
            str(self.config_path),
            "--generate-keys",
        ]
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=self._workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(proc.communicate(), _KEYGEN_TIMEOUT)
        except TimeoutError:
            await _terminate(proc)
            raise SynapseStartError(
                f"Synapse key generation did not finish within {_KEYGEN_TIMEOUT:.0f} s"
            ) from None
        if proc.returncode != 0:
            tail = "\n".join(output.decode(errors="replace").splitlines()[-_LOG_TAIL_LINES:])
            raise SynapseStartError(
                f"Synapse key generation failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}"
            )

    async def _launch(self, port: int) -> asyncio.subprocess.Process:
        """Start the process and wait until it serves /versions, or clean up and raise."""
        if sys.platform.startswith("linux"):
            runner = ["-c", _BOOTSTRAP, str(os.getpid())]
        else:
            runner = ["-m", "synapse.app.homeserver"]
        cmd = [sys.executable, *runner, "-c", str(self.config_path)]
        with self.log_path.open("ab") as log:
            since = log.tell()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"=== empfang: starting Synapse on 127.0.0.1:{port} at {stamp}\n".encode())
            log.flush()
            process = await asyncio.create_subprocess_exec(
                *cmd,
                cwd=self._workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            await self._wait_until_ready(process, port, since)
        except BaseException:
            await _terminate(process)
            raise
        return process

    async def _wait_until_ready(
        self, process: asyncio.subprocess.Process, port: int, since: int
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._startup_timeout
        url = f"http://127.0.0.1:{port}/_matrix/client/versions"
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as probe:
            while True:
                if process.returncode is not None:
                    port_taken = _log_contains(self.log_path, "Address already in use", since)
                    cause = f"port {port} on 127.0.0.1 is already in use" if port_taken else ""
                    message = (
                        f"Synapse exited with code {process.returncode} while starting on "
                        f"127.0.0.1:{port}{': ' + cause if cause else ''} "
                        f"(config {self.config_path}, log {self.log_path}).\n"
                        f"Last {_LOG_TAIL_LINES} log lines:\n{_tail(self.log_path, since=since)}"
                    )
                    if port_taken:
                        raise _PortTakenError(message)
                    raise SynapseStartError(message)
                with contextlib.suppress(httpx.TransportError):
                    response = await probe.get(url)
                    if response.status_code == 200 and process.returncode is None:
                        return
                if loop.time() > deadline:
                    raise SynapseStartError(
                        f"Synapse did not answer GET {url} within {self._startup_timeout:g} s "
                        f"(log {self.log_path}).\nLast {_LOG_TAIL_LINES} log lines:\n"
                        f"{_tail(self.log_path, since=since)}"
                    )
                await asyncio.sleep(_POLL_INTERVAL)


class _PortTakenError(Exception):
    """Synapse could not bind; ``start`` may retry on another port if it picked the port."""


async def _terminate(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, wait up to 10 s for Synapse's clean shutdown, then SIGKILL."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), _STOP_GRACE_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
