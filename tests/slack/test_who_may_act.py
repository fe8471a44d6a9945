"""One rule for who may act, in the relay, for replies and Claim/Close alike: a member of the
channel (as the adapter reports) and, with ``allowed_users`` set, on that list.

Slack shows a public channel's buttons to every user of the workspace, joined or not, so
the adapter looks up the presser's membership; the relay refuses, and Slack shows the
refusal to the presser only.
"""

from __future__ import annotations

from tests.numbers import CUSTOMER
from tests.slack.conftest import StartStack
from tests.slack.stack import AGENT, OUTSIDER, SlackStack

ANNA = "+" + CUSTOMER
STRANGER = "U0STRANGER"
"""A user of the workspace who never joined the support channel."""


async def _thread(stack: SlackStack) -> str:
    stack.say(ANNA, "Hallo")
    thread = await stack.thread_of(ANNA)
    await stack.lines_arrive(thread, ["Hallo"])
    return thread


def _state(stack: SlackStack, thread: str) -> str:
    return str(stack.fake.message(thread)["text"])


async def test_a_non_member_cannot_press_buttons_even_without_an_allow_list(
    fast_slack: None, start_stack: StartStack
) -> None:
    stack = await start_stack("http", slack={"allowed_users": []})
    stack.fake.add_user(STRANGER, "stella", real_name="Stella Fremd", member=False)
    thread = await _thread(stack)

    pressed = await stack.fake.press_button(thread, STRANGER, "close")
    await stack.settled()
    assert pressed.acked
    assert "State: closed" not in _state(stack, thread)
    assert stack.rows("SELECT state, claimed_by FROM conversations") == [("open", None)]
    assert stack.fake.bot_texts(thread) == ["Hallo"]  # the refusal is not posted in the thread

    await stack.fake.press_button(thread, OUTSIDER, "claim")  # a member; no allow-list
    await stack.settled()
    assert stack.rows("SELECT claimed_by FROM conversations") == [("Olaf",)]


async def test_only_allowed_members_press_buttons(
    fast_slack: None, start_stack: StartStack
) -> None:
    stack = await start_stack("socket")  # allowed_users: AGENT, AGENT_2; OUTSIDER is a member
    thread = await _thread(stack)

    refused = await stack.fake.press_button(thread, OUTSIDER, "claim")
    await stack.settled()
    assert refused.acked
    assert stack.rows("SELECT claimed_by FROM conversations") == [(None,)]
    assert [(e["user"], e["text"]) for e in stack.fake.ephemeral] == [
        (OUTSIDER, "⛔ Olaf may not claim conversations.")
    ]

    await stack.fake.press_button(thread, AGENT, "claim")
    await stack.settled()
    assert stack.rows("SELECT claimed_by FROM conversations") == [("Anna",)]
    assert len(stack.fake.ephemeral) == 1
    assert stack.fake.bot_texts(thread) == ["Hallo"]
