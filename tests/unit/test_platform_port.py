"""The chat port is explicit: wrappers forward each member by name, nothing by magic.

``MonitoredChat`` once forwarded unknown attributes through ``__getattr__`` and the relay
found combining with ``isinstance`` against a runtime protocol. From Python 3.12 on,
``isinstance`` looks members up with ``inspect.getattr_static``, which never calls
``__getattr__``: combining on Slack silently switched off. These tests make that lookup on
every Python version.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from adapters.slack.platform import SlackPlatform
from bot.alerts.monitor import MonitoredChat
from bot.alerts.oncall import OnCall
from bot.clock import ManualClock
from bot.config import AlertsSection, BusinessHoursSection, SlackSection
from bot.ports import Capabilities, ChatPlatform
from bot.store import Store
from bot.texts import ENGLISH

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slack() -> SlackPlatform:
    section = SlackSection(
        bot_token=SecretStr("xoxb-1-2-test"),
        app_token=SecretStr("xapp-1-A-3-test"),
        channel_id="C0SUPPORT1",
    )
    return SlackPlatform(section, texts=ENGLISH)


@pytest.fixture
async def watched(slack: SlackPlatform, tmp_path: Path) -> AsyncIterator[MonitoredChat]:
    """The wrapper exactly as ``bot.app`` builds it around the platform."""
    store = await Store.open(tmp_path / "empfang.sqlite3", clock=ManualClock())
    oncall = OnCall(store, slack, AlertsSection(), BusinessHoursSection(), texts=ENGLISH)
    yield MonitoredChat(slack, oncall, store.clock, 60.0)
    await store.close()


def _port_members() -> set[str]:
    methods = {name for name in vars(ChatPlatform) if not name.startswith("_")}
    return methods | set(ChatPlatform.__annotations__)


def test_monitored_slack_declares_combining_without_attribute_magic(
    slack: SlackPlatform, watched: MonitoredChat
) -> None:
    for name in ("capabilities", "ready_to_post", "post", "name"):
        inspect.getattr_static(watched, name)  # raises AttributeError if only __getattr__ has it
    assert watched.capabilities == slack.capabilities
    assert watched.capabilities.paced and watched.capabilities.combine_waiting == 10


def test_monitored_chat_defines_every_member_of_the_port(watched: MonitoredChat) -> None:
    members = _port_members()
    assert {"name", "capabilities", "ready_to_post", "post"} <= members
    missing = []
    for name in sorted(members):
        try:
            inspect.getattr_static(watched, name)
        except AttributeError:
            missing.append(name)
    assert missing == []


DYNAMIC = ("__getattr__", "__getattribute__")
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def test_no_class_forwards_attributes_dynamically() -> None:
    found: list[str] = []
    for package in ("bot", "adapters"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            functions = (n for n in ast.walk(tree) if isinstance(n, FUNCTIONS))
            found += [
                f"{path.relative_to(ROOT)}:{f.lineno} {f.name}"
                for f in functions
                if f.name in DYNAMIC
            ]
    assert found == []


def test_combining_needs_a_paced_platform() -> None:
    with pytest.raises(ValidationError):
        Capabilities(combine_waiting=5)
    assert Capabilities().combine_waiting == 1
