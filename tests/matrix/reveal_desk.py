"""The set-up both reveal tests share: production wiring around a real ``MatrixPlatform``
with reveal allowed for the team's agent, and an agent asking ``!reveal`` in the thread of a
customer's first message."""

from __future__ import annotations

from typing import Any

import httpx

from bot.config import Settings
from bot.demo.synapse import MatrixAccount
from bot.ids import ChatMessageId
from bot.ports import AgentMessage, ChatPlatform
from bot.store import Store
from bot.texts import ENGLISH
from bot.wiring import RelayStack, wire_relay
from tests.cases.doubles import RecordingWhatsApp
from tests.matrix.conftest import Team
from tests.numbers import CUSTOMER
from tests.privacy.retention_chat import KEY, customer_says

TTL = 30.0


def wired(store: Store, chat: ChatPlatform, team: Team) -> RelayStack:
    settings = Settings.model_validate(
        {
            "privacy": {
                "pseudonym_key": KEY,
                "reveal_users": [team.agent.user_id],
                "reveal_ttl": f"{TTL:.0f}s",
            },
            "jobs": {"backoff_base_seconds": 1.0, "backoff_max_seconds": 8.0},
        }
    )
    return wire_relay(store, settings, chat=chat, whatsapp=RecordingWhatsApp(), texts=ENGLISH)


async def reveal_asked(stack: RelayStack, store: Store, team: Team) -> None:
    """The customer writes; in the thread, the agent asks for the number with a reason."""
    await customer_says(store, CUSTOMER, "Bitte rufen Sie mich an")
    await stack.workers.run_until_idle()
    async with store.transaction() as tx:
        conversation = await tx.conversations.get(1)
    assert conversation is not None and conversation.thread_id is not None
    await stack.relay.on_agent_event(
        AgentMessage(
            chat_id=ChatMessageId("$reveal-command"),
            thread_id=conversation.thread_id,
            author_id=team.agent.user_id,
            author_name="Agent",
            text="!reveal Rückruf erbeten",
        )
    )
    await stack.workers.run_until_idle()


async def client_get(team: Team, account: MatrixAccount, path: str) -> dict[str, Any]:
    async with httpx.AsyncClient(
        base_url=team.hs.base_url,
        headers={"Authorization": f"Bearer {account.access_token}"},
        trust_env=False,
        timeout=10.0,
    ) as http:
        response = await http.get(path, params={"timeout": "0"})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body
