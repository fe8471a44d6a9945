"""The homeserver goes away and comes back: sends fail retryably, the sync loop resumes.

Runs on a private homeserver because it stops it; the shared one must stay up for the others.
"""

from __future__ import annotations

import pytest

from adapters.matrix import MatrixPlatform
from bot.demo.synapse import LocalSynapse
from bot.errors import PlatformError
from bot.ports import ThreadRoot
from tests.matrix.conftest import StartPlatform
from tests.matrix.helpers import Inbox, section, thread_reply


async def test_homeserver_outage_is_retryable_and_sync_resumes(
    private_synapse: LocalSynapse, start_platform: StartPlatform
) -> None:
    hs = private_synapse
    agent = await hs.register_user("agent", "agent-pw")
    bot = await hs.register_user("empfang", "bot-pw")
    room_id = await hs.create_room(agent, name="Support", invite=[bot.user_id])
    config = section(hs, bot, room_id, hs.workdir / "bot-store")
    platform, inbox = await start_platform(config)
    root_id = await platform.open_thread(ThreadRoot(conversation_id=1, title="K-1"), key="root")

    await hs.stop()
    with pytest.raises(PlatformError) as caught:
        await platform.post(root_id, "während der Störung", key="job-1")
    assert caught.value.retryable is True

    # A fresh start while the homeserver is down fails retryably and leaves nothing running.
    cold = MatrixPlatform(section(hs, bot, room_id, hs.workdir / "cold-store"))
    with pytest.raises(PlatformError) as cold_failure:
        await cold.start(Inbox())
    assert cold_failure.value.retryable is True
    assert not cold.running

    await hs.start()
    assert platform.running
    # The retried job succeeds, exactly once.
    post_id = await platform.post(root_id, "während der Störung", key="job-1")
    assert await platform.post(root_id, "während der Störung", key="job-1") == post_id

    reply_id = await hs.send_message(agent, room_id, thread_reply(root_id, "wieder da"))
    message = await inbox.wait_for(lambda m: m.chat_id == reply_id, within=30)
    assert message.thread_id == root_id
