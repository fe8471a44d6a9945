"""Modals for the fake Slack: ``views.open`` / ``views.update`` and the interactions a
person has with an open modal (choosing from a select, typing, submitting).

What it reproduces (docs.slack.dev: views.open, views.update, view interaction payloads):

* a ``trigger_id`` comes with each interaction, is valid for **3 seconds** and can be
  exchanged **once**: ``expired_trigger_id``, ``exchanged_trigger_id``,
  ``invalid_trigger_id``; a view that is not a valid modal is ``invalid_arguments``
  (title ≤ 24 characters, ≤ 100 blocks, a ``submit`` when it has inputs, known element
  types, ``private_metadata`` ≤ 3000 characters);
* ``views.update`` by ``view_id`` with an optional ``hash``: ``not_found`` for an unknown or
  closed view, ``hash_conflict`` when the view changed since that hash; each change makes
  a new hash; state of inputs that are still there is kept;
* choosing an option in an element with ``dispatch_action`` sends ``block_actions`` with a
  ``view`` container; typing sends nothing; submitting sends ``view_submission`` with
  ``view.state.values`` (``block_id`` → ``action_id`` → value), ``private_metadata`` and a
  new ``trigger_id``. Slack's client refuses to submit while a required input is empty.
"""

from __future__ import annotations

import copy
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.slack_wire import JSON, ApiError, json_argument

if TYPE_CHECKING:
    from tests.fakes.slack import Delivery, FakeSlack

TRIGGER_SECONDS = 3.0
MAX_TITLE = 24
MAX_BLOCKS = 100
MAX_METADATA = 3000
ELEMENTS = frozenset({"static_select", "plain_text_input"})
VIEW_BLOCKS = frozenset({"section", "input", "context", "divider", "actions", "header"})


@dataclass
class Trigger:
    user: str
    issued: float
    exchanged: bool = False


@dataclass
class OpenView:
    """A modal as Slack keeps it: what the app sent, its id, hash, and the person's input."""

    view_id: str
    user: str
    view: JSON
    hash: str
    values: dict[str, dict[str, JSON]] = field(default_factory=dict)
    closed: bool = False

    def output(self, team_id: str, app_id: str, bot_id: str) -> JSON:
        """The view as payloads carry it (``ViewOutput``)."""
        return {
            **copy.deepcopy(self.view),
            "id": self.view_id,
            "team_id": team_id,
            "app_id": app_id,
            "bot_id": bot_id,
            "hash": self.hash,
            "root_view_id": self.view_id,
            "previous_view_id": None,
            "state": {"values": copy.deepcopy(self.values)},
            "private_metadata": self.view.get("private_metadata", ""),
            "callback_id": self.view.get("callback_id", ""),
        }

    def element(self, action_id: str, block_id: str | None = None) -> tuple[JSON, JSON]:
        for block in self.view.get("blocks", []):
            if block_id is not None and block.get("block_id") != block_id:
                continue
            element = block.get("element")
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block, element
        raise ValueError(f"no element {action_id!r} in view {self.view_id}")


def _plain(value: Any, limit: int) -> None:
    if not isinstance(value, dict) or value.get("type") != "plain_text":
        raise ApiError("invalid_arguments")
    text = value.get("text")
    if not isinstance(text, str) or not text or len(text) > limit:
        raise ApiError("invalid_arguments")


def validate_view(value: Any) -> JSON:
    """The modal rules the bot's form touches; ``invalid_arguments`` otherwise."""
    view = json_argument(value, "invalid_arguments")
    if not isinstance(view, dict) or view.get("type") != "modal":
        raise ApiError("invalid_arguments")
    _plain(view.get("title"), MAX_TITLE)
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= MAX_BLOCKS:
        raise ApiError("invalid_arguments")
    if len(str(view.get("private_metadata", ""))) > MAX_METADATA:
        raise ApiError("invalid_arguments")
    block_ids = [b.get("block_id") for b in blocks if isinstance(b, dict) and b.get("block_id")]
    if len(block_ids) != len(set(block_ids)):
        raise ApiError("invalid_arguments")
    inputs = 0
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") not in VIEW_BLOCKS:
            raise ApiError("invalid_arguments")
        if block["type"] == "input":
            inputs += 1
            _plain(block.get("label"), 2000)
            element = block.get("element")
            if not isinstance(element, dict) or element.get("type") not in ELEMENTS:
                raise ApiError("invalid_arguments")
            if element["type"] == "static_select":
                options = element.get("options")
                if not isinstance(options, list) or not 1 <= len(options) <= 100:
                    raise ApiError("invalid_arguments")
    if inputs:
        _plain(view.get("submit"), MAX_TITLE)
    return view


def _ids() -> tuple[str, str, str, str]:
    """The workspace's team, app and bot ids and verification token (``tests.fakes.slack``
    imports this module, so they are read when used)."""
    from tests.fakes import slack

    return slack.TEAM_ID, slack.APP_ID, slack.BOT_ID, slack.VERIFICATION_TOKEN


class FakeViews:
    """Plugged into :class:`~tests.fakes.slack.FakeSlack` as ``fake.views``."""

    def __init__(self, slack: FakeSlack) -> None:
        self._slack = slack
        self.triggers: dict[str, Trigger] = {}
        self.open_views: dict[str, OpenView] = {}
        self.submissions: list[JSON] = []

    def methods(self) -> dict[str, Any]:
        return {"views.open": self._open, "views.update": self._update}

    def trigger(self, user: str) -> str:
        """A new ``trigger_id`` for an interaction of ``user`` (valid 3 s, once)."""
        trigger_id = f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"
        self.triggers[trigger_id] = Trigger(user, time.monotonic())
        return trigger_id

    def _hash(self) -> str:
        return f"{time.time():.6f}.{uuid.uuid4().hex[:8]}"

    def _answer(self, opened: OpenView) -> JSON:
        team_id, app_id, bot_id, _ = _ids()
        return {"view": opened.output(team_id, app_id, bot_id)}

    def _open(self, args: JSON) -> JSON:
        trigger_id = args.get("trigger_id")
        if not isinstance(trigger_id, str) or "view" not in args:
            raise ApiError("invalid_arguments")
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger.exchanged:
            raise ApiError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued > TRIGGER_SECONDS:
            raise ApiError("expired_trigger_id")
        view = validate_view(args["view"])
        trigger.exchanged = True
        view_id = "V" + uuid.uuid4().hex[:10].upper()
        opened = OpenView(view_id, trigger.user, view, self._hash())
        self.open_views[view_id] = opened
        return self._answer(opened)

    def _update(self, args: JSON) -> JSON:
        opened = self.open_views.get(str(args.get("view_id", "")))
        if opened is None or opened.closed:
            raise ApiError("not_found")
        expected = args.get("hash")
        if expected and expected != opened.hash:
            raise ApiError("hash_conflict")
        view = validate_view(args.get("view"))
        kept = {b.get("block_id") for b in view["blocks"]}
        opened.values = {k: v for k, v in opened.values.items() if k in kept}
        opened.view = view
        opened.hash = self._hash()
        return self._answer(opened)

    # -- a person in the modal ----------------------------------------------------------------

    def view(self, view_id: str) -> OpenView:
        return self.open_views[view_id]

    def latest(self, user: str) -> OpenView:
        """The newest open modal of ``user``."""
        found = [v for v in self.open_views.values() if v.user == user and not v.closed]
        if not found:
            raise ValueError(f"{user} has no open modal")
        return found[-1]

    def type_text(self, view_id: str, block_id: str, action_id: str, text: str) -> None:
        """Typing into a plain-text input: state changes, nothing is sent (as in Slack)."""
        opened = self.view(view_id)
        opened.element(action_id, block_id)
        opened.values.setdefault(block_id, {})[action_id] = {
            "type": "plain_text_input",
            "value": text,
        }

    async def choose(self, view_id: str, action_id: str, value: str) -> Delivery | None:
        """Pick the option ``value`` of a select; with ``dispatch_action`` the app hears it."""
        opened = self.view(view_id)
        block, element = opened.element(action_id)
        option = next((o for o in element.get("options", []) if o.get("value") == value), None)
        if option is None:
            raise ValueError(f"no option {value!r}")
        block_id = str(block.get("block_id"))
        opened.values.setdefault(block_id, {})[action_id] = {
            "type": "static_select",
            "selected_option": copy.deepcopy(option),
        }
        if not block.get("dispatch_action"):
            return None
        payload = self._payload("block_actions", opened)
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["actions"] = [
            {
                "type": "static_select",
                "action_id": action_id,
                "block_id": block_id,
                "selected_option": copy.deepcopy(option),
                "action_ts": f"{time.time():.6f}",
            }
        ]
        return await self._send(payload)

    async def submit(self, view_id: str) -> Delivery:
        """Press the modal's submit button: ``view_submission``; an acknowledged one closes
        the modal. Refused like Slack's client while a required input is empty."""
        opened = self.view(view_id)
        for block in opened.view.get("blocks", []):
            if block.get("type") != "input" or block.get("optional"):
                continue
            entry = opened.values.get(str(block.get("block_id")), {}).get(
                str(block["element"].get("action_id")), {}
            )
            if not (entry.get("value") or entry.get("selected_option")):
                raise ValueError(f"required input {block.get('block_id')!r} is empty")
        payload = self._payload("view_submission", opened)
        payload["response_urls"] = []
        self.submissions.append(payload)
        delivery = await self._send(payload)
        if delivery.acked:
            opened.closed = True
        return delivery

    def _payload(self, kind: str, opened: OpenView) -> JSON:
        team_id, app_id, bot_id, token = _ids()
        member = self._slack.users[opened.user]
        return {
            "type": kind,
            "team": {"id": team_id, "domain": "empfang-test"},
            "user": {
                "id": opened.user,
                "username": member.name,
                "name": member.name,
                "team_id": team_id,
            },
            "api_app_id": app_id,
            "token": token,
            "trigger_id": self.trigger(opened.user),
            "view": opened.output(team_id, app_id, bot_id),
            "enterprise": None,
            "is_enterprise_install": False,
        }

    async def _send(self, payload: JSON) -> Delivery:
        return await self._slack.deliver_interaction(payload)
