"""What the tests of retention in the chat share: customers writing through the real intake,
and the purge run as ``empfang run`` runs it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from adapters.slack import SlackPlatform
from adapters.slack.pacing import ChannelPacer
from bot.config import SlackSection
from bot.domain import MessageKind, Reaction
from bot.ids import ProviderMessageId
from bot.intake import Intake
from bot.store import Store
from bot.texts import ENGLISH
from bot.wiring import RelayStack
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, CHANNEL, FakeSlack
from tests.support.inbound import customer_sends

KEY = "retention-posts-pseudonym-key-01"
AGENT = "U0AGENTANNA"
DAY = 86_400.0


async def customer_says(store: Store, number: str, text: str) -> None:
    await _accept(store, number, kind=MessageKind.TEXT, text=text)


async def customer_reacts(store: Store, number: str, target: str, emoji: str) -> None:
    """The customer reacts to the message WhatsApp knows as ``target`` (an agent's reply)."""
    reaction = Reaction(message_id=ProviderMessageId(target), emoji=emoji)
    await _accept(store, number, kind=MessageKind.REACTION, reaction=reaction)


async def _accept(store: Store, number: str, **fields: Any) -> None:
    await customer_sends(Intake(store, pseudonym_key=KEY.encode()), store.clock, number, **fields)


async def purge_now(wired: RelayStack) -> None:
    """On-call's timers that came due first (they hold their message), then a purge run
    and the chat jobs it queued."""
    await wired.workers.run_until_idle()
    await wired.purge.ensure_scheduled()
    await wired.workers.run_until_idle()


def audit(db: Path, action: str) -> list[dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT details FROM audit_log WHERE action = ? ORDER BY id", (action,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def chat_ids(db: Path) -> list[str | None]:
    """The chat id of each stored message, oldest first."""
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT chat_id FROM messages ORDER BY id")]


def slack_with_agent(fake: FakeSlack) -> SlackPlatform:
    """The bot on the fake Slack (paced for tests), with an agent in the channel."""
    fake.add_user(AGENT, "anna", real_name="Anna")
    fake.channels[CHANNEL].members.add(AGENT)
    section = SlackSection(
        bot_token=SecretStr(BOT_TOKEN),
        app_token=SecretStr(APP_TOKEN),
        channel_id=CHANNEL,
        api_base=fake.api_base,
    )
    return SlackPlatform(section, texts=ENGLISH, pacer=ChannelPacer(0.02))
