"""``ChatTargets``: Matrix and Slack behind one platform, each call on the platform of the
scoped conversation's room (``bot.routing``)."""

from __future__ import annotations

from bot.chat_targets import ChatTargets
from bot.media.spool import Spool, SpooledFile
from bot.ports import AgentFile, Capabilities, PrivateRef, ThreadRoot
from bot.routing import chatting_in
from tests.cases.doubles import RecordingChat


class Named(RecordingChat):
    def __init__(self, name: str, capabilities: Capabilities) -> None:
        super().__init__()
        self.name = name
        self.capabilities = capabilities
        self.withdrawn: list[PrivateRef] = []

    async def withdraw(self, ref: PrivateRef, *, key: str) -> None:
        self.withdrawn.append(ref)

    async def fetch_file(self, file: AgentFile, spool: Spool, *, cap: int) -> SpooledFile:
        raise AssertionError("no agents' files here")


def targets() -> tuple[ChatTargets, Named, Named]:
    matrix = Named("matrix", Capabilities(reactions=True, direct_rooms=True))
    slack = Named("slack", Capabilities(paced=True, combine_waiting=5, ephemeral=True))
    return ChatTargets({"matrix": matrix, "slack": slack}, "matrix"), matrix, slack


async def test_each_call_goes_to_the_scoped_platform_else_the_default() -> None:
    chat, matrix, slack = targets()
    root = ThreadRoot(conversation_id=1, title="K-1")
    with chatting_in("C0SERVICE01", platform="slack"):
        assert chat.capabilities.combine_waiting == 5
        on_slack = await chat.open_thread(root, key="a")
        await chat.post(on_slack, "Rechnung", key="b")
    on_matrix = await chat.open_thread(root, key="c")
    assert chat.capabilities.reactions
    assert list(slack.posts) == [on_slack] and slack.posts[on_slack] == ["Rechnung"]
    assert list(matrix.posts) == [on_matrix]
    assert chat.name == "matrix+slack"


async def test_a_withdrawal_goes_to_the_platform_with_private_rooms() -> None:
    chat, matrix, slack = targets()
    ref = PrivateRef(room_id="!direct:example.org", event_id="$e")
    with chatting_in("C0SERVICE01", platform="slack"):  # the job names no conversation
        await chat.withdraw(ref, key="w")
    assert matrix.withdrawn == [ref] and slack.withdrawn == []
