"""``empfang check-config --online`` for Matrix: ask the homeserver whether the setup works.

Login is checked the way the bot logs in (``adapters/matrix/session.py``): the access token
with ``whoami``, else a password login whose throw-away session is logged out again. Then
the room: the bot must have joined it (an invite is accepted by ``empfang run``), customer
conversations must not be readable by strangers (join rule, history visibility) nor copied to
other homeservers (``m.federate``, which only room creation can turn off: a problem even where
the homeserver has federation disabled, since a client cannot see that and the homeserver's
config may change later), the room's
encryption must match ``matrix.encryption``, and the bot's power level must allow posting;
retention purges later need it to redact others' events (moderator). The bot must also have
joined ``alerts.room`` when one is set.

Plain Client-Server API calls over httpx rather than nio: the check must not create a crypto
store, a sync token or a device that outlives it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from adapters.matrix.api import REQUEST_TIMEOUT
from adapters.matrix.power import power_of
from bot.config import MatrixSection
from bot.online import OnlineReport

API = "/_matrix/client/v3"
CHECK_DEVICE_NAME = "Empfang check-config"

_PRIVATE_RULES = frozenset({"invite", "knock", "private"})


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status < 400

    def error(self) -> str:
        body = self.body if isinstance(self.body, dict) else {}
        code = body.get("errcode") or f"HTTP {self.status}"
        return f"{code}: {body.get('error') or 'no reason given'}"


class _Unreachable(Exception):
    """The homeserver did not answer at all."""


class _Homeserver:
    """Calls as one user; every failure to connect becomes :class:`_Unreachable`."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token = ""

    async def call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None
    ) -> _Answer:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = await self.http.request(
                method, API + path, json=body, params=params, headers=headers
            )
        except httpx.HTTPError as exc:
            raise _Unreachable(type(exc).__name__) from exc
        try:
            parsed: Any = response.json()
        except ValueError:
            parsed = None
        return _Answer(response.status_code, parsed)


async def check_online(
    section: MatrixSection,
    alerts_room: str = "",
    rooms: Sequence[tuple[str, str]] = (),
    alert_rooms: Sequence[tuple[str, str]] = (),
) -> OnlineReport:
    """Every finding by TOML key; ``problems`` empty when the homeserver accepts the setup.

    ``rooms``: the numbers' rooms as ``(key, room)``, e.g. ``("numbers[1].room",
    "!sales:example.com")``, judged like ``matrix.room_id`` (a room already judged under
    another key is not judged twice). ``alerts_room`` (``alerts.room``, optional) and
    ``alert_rooms`` (the numbers' ``alerts_room``) are checked for membership only: alerts
    carry no customer content, so who else reads those rooms is the team's choice.
    """
    report = OnlineReport()
    async with httpx.AsyncClient(
        base_url=section.homeserver.rstrip("/"), timeout=REQUEST_TIMEOUT, trust_env=False
    ) as http:
        hs = _Homeserver(http)
        try:
            temporary = await _log_in(hs, section, report)
            if hs.token:
                try:
                    threads = [("matrix.room_id", section.room_id)] if section.room_id else []
                    alerts = [("alerts.room", alerts_room)] if alerts_room else []
                    targets = _Targets([*threads, *rooms], [*alerts, *alert_rooms])
                    await _check_rooms(hs, section, targets, report)
                finally:
                    if temporary:
                        await hs.call("POST", "/logout", body={})
        except _Unreachable as exc:
            report.problem("matrix.homeserver", f"cannot reach {section.homeserver} ({exc})")
    return report


async def _log_in(hs: _Homeserver, section: MatrixSection, report: OnlineReport) -> bool:
    """Leave a working token in ``hs``; True when it is a session of this check alone."""
    token = section.access_token.get_secret_value()
    if token:
        hs.token = token
        who = await hs.call("GET", "/account/whoami")
        user = who.body.get("user_id") if who.ok else None
        if user == section.user_id:
            return False
        hs.token = ""
        if who.ok:
            report.problem(
                "matrix.access_token", f"belongs to {user}, not matrix.user_id {section.user_id}"
            )
            return False
        rejected = f"rejected by the homeserver ({who.error()})"
        if not section.password.get_secret_value():
            report.problem("matrix.access_token", rejected)
            return False
        report.warning("matrix.access_token", rejected + "; the bot logs in by password instead")
    return await _password_login(hs, section, report)


async def _password_login(hs: _Homeserver, section: MatrixSection, report: OnlineReport) -> bool:
    login = await hs.call(
        "POST",
        "/login",
        body={
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": section.user_id},
            "password": section.password.get_secret_value(),
            "initial_device_display_name": CHECK_DEVICE_NAME,
        },
    )
    if not login.ok:
        report.problem("matrix.password", f"login as {section.user_id} failed ({login.error()})")
        return False
    hs.token = str(login.body.get("access_token") or "")
    return True


@dataclass(frozen=True)
class _Targets:
    """The rooms to check, as ``(key, room)``: threads' rooms and alerts' rooms."""

    threads: list[tuple[str, str]]
    alerts: list[tuple[str, str]]


async def _check_rooms(
    hs: _Homeserver, section: MatrixSection, targets: _Targets, report: OnlineReport
) -> None:
    joined = await hs.call("GET", "/joined_rooms")
    if not joined.ok:
        report.problem("matrix.user_id", f"cannot list the bot's rooms ({joined.error()})")
        return
    rooms = set(joined.body.get("joined_rooms") or [])
    judged: set[str] = set()
    for key, wanted in targets.threads:
        if wanted in judged:
            continue
        judged.add(wanted)
        room = await _member_of(hs, rooms, wanted, key, section, report)
        if room is None:
            continue
        state = await hs.call("GET", f"/rooms/{quote(room, safe='')}/state")
        if state.ok and isinstance(state.body, list):
            judge_room(state_contents(state.body), room, section, report, key=key)
        else:
            report.problem(key, f"cannot read the room's settings ({state.error()})")
    for key, wanted in targets.alerts:
        if wanted in judged:
            continue
        judged.add(wanted)
        alerts = await _member_of(hs, rooms, wanted, key, section, report)
        if alerts is not None:
            report.fact(key, f"the bot has joined {alerts}")


async def _member_of(
    hs: _Homeserver,
    joined: set[str],
    room: str,
    key: str,
    section: MatrixSection,
    report: OnlineReport,
) -> str | None:
    """The room id when the bot has joined ``room`` (an id or ``#alias``), else None."""
    if room.startswith("#"):
        alias = await hs.call("GET", f"/directory/room/{quote(room, safe='')}")
        if not alias.ok:
            report.problem(key, f"no room has the alias {room} ({alias.error()})")
            return None
        room = str(alias.body.get("room_id"))
    if room in joined:
        return room
    if await _invited(hs, room):
        report.warning(
            key,
            f"the bot is invited to {room} but has not joined; `empfang run` accepts the "
            "invite (run this check again afterwards to see everything)",
        )
    else:
        report.problem(
            key,
            f"the bot is not in {room}; invite {section.user_id} from the room "
            f"(/invite {section.user_id})",
        )
    return None


async def _invited(hs: _Homeserver, room: str) -> bool:
    """Invites show only in ``/sync``; the filter keeps the answer to that one room."""
    nothing = {"not_types": ["*"]}
    room_filter = {
        "room": {
            "rooms": [room],
            "timeline": {"limit": 0},
            "state": nothing,
            "ephemeral": nothing,
            "account_data": nothing,
        },
        "presence": nothing,
        "account_data": nothing,
    }
    answer = await hs.call(
        "GET", "/sync", params={"filter": json.dumps(room_filter), "timeout": "0"}
    )
    invites = (answer.body or {}).get("rooms", {}).get("invite", {}) if answer.ok else {}
    return room in invites


def state_contents(events: list[Any]) -> dict[str, dict[str, Any]]:
    """The room-wide state events (empty state key) by type."""
    return {
        str(event.get("type")): event.get("content") or {}
        for event in events
        if isinstance(event, dict) and event.get("state_key") == ""
    }


def judge_room(
    state: dict[str, dict[str, Any]],
    room: str,
    section: MatrixSection,
    report: OnlineReport,
    *,
    key: str = "matrix.room_id",
) -> None:
    """What ``check-config --online`` says about one room of threads, under ``key``."""
    rule = state.get("m.room.join_rules", {}).get("join_rule", "invite")
    if rule == "public":
        report.problem(
            key,
            f"{room} is public: anyone on the homeserver can join and read customer "
            "conversations; make it invite-only",
        )
    elif rule not in _PRIVATE_RULES:
        report.warning(key, f"{room} can be joined without an invite ({rule})")
    if state.get("m.room.create", {}).get("m.federate", True) is not False:
        report.problem(
            key,
            f"{room} is federated (m.federate): customer conversations would be copied to "
            "other homeservers; create the room with federation off (Element: block anyone "
            "not part of this server from ever joining)",
        )
    visibility = state.get("m.room.history_visibility", {}).get("history_visibility")
    if visibility == "world_readable":
        report.warning(
            key,
            f"{room}'s history is world_readable: anyone can read it without joining; "
            "set it to members only",
        )
    encrypted = "m.room.encryption" in state
    if encrypted and not section.encryption:
        report.problem(
            "matrix.encryption",
            f"false, but {room} is encrypted: the bot could not read agents' replies; set "
            "matrix.encryption = true (with matrix.pickle_key)",
        )
    elif section.encryption and not encrypted:
        report.problem(
            "matrix.encryption",
            f"true, but {room} is not encrypted; set matrix.encryption = false or turn on "
            "encryption in the room",
        )
    _judge_power(state.get("m.room.power_levels"), state, room, section, report, key)


def _judge_power(
    levels: dict[str, Any] | None,
    state: dict[str, dict[str, Any]],
    room: str,
    section: MatrixSection,
    report: OnlineReport,
    key: str,
) -> None:
    """Spec defaults apply where ``m.room.power_levels`` is silent (or missing altogether)."""
    creator = state.get("m.room.create", {}).get("creator")
    power = power_of(section.user_id, levels, creator)
    report.fact(key, f"the bot has joined {room}; power level {power.level}")
    if power.level < power.send:
        report.problem(
            key,
            f"the bot's power level {power.level} is below {power.send}, needed to post messages",
        )
    if not power.redacts_others:
        report.warning(
            key,
            f"the bot's power level {power.level} is below {power.redact}, needed to redact "
            "agents' replies; make it a moderator so retention and erasure remove them too "
            "(the bot's own posts are removed either way)",
        )
