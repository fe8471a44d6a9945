"""``empfang run`` looks at the support channel again when Slack starts (privacy.md item 8):
a channel made public since ``check-config --online`` was run is named in a warning, from
the ``conversations.info`` answer the start reads anyway; a private channel is not."""

from __future__ import annotations

import logging

import pytest

from bot.ports import AgentEvent
from tests.fakes.slack import FakeSlack
from tests.privacy.retention_chat import slack_with_agent


async def ignore(event: AgentEvent) -> None:
    return None


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
async def test_a_public_support_channel_is_warned_about_at_start(
    caplog: pytest.LogCaptureFixture, private: bool
) -> None:
    async with FakeSlack(private=private) as fake:
        platform = slack_with_agent(fake)
        with caplog.at_level(logging.WARNING, logger="empfang.slack"):
            await platform.start(ignore)
        await platform.stop()
    warned = [r.getMessage() for r in caplog.records if "public channel" in r.getMessage()]
    assert bool(warned) is not private
    if warned:
        assert warned[0].startswith("slack: slack.channel_id: #support is a public channel")
