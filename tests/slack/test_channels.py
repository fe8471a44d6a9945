"""Several business numbers, each routed to its own Slack channel, served by one bot.

The whole bot (``bot.app``) against the fake Slack and the WhatsApp sandbox. With
``same_ts`` the fake counts every channel's ``ts`` from the same instant (``ts_epoch``), so
the workshop's and the sales team's first threads have the *same* ``ts``, as two Slack
channels may: whatever is confused between channels shows up as a post, mark, button or
reply in the wrong place.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.sandbox.core import DEFAULT_WABA_ID
from tests.fakes.slack import CHANNEL, FakeSlack
from tests.fakes.slack_private_files import agent_shares_file
from tests.fakes.slack_reactions import agent_reacts
from tests.media.customer import PDF, send_file
from tests.numbers import CUSTOMER, CUSTOMER_2
from tests.slack.conftest import FAST_INTERVAL, StartStack
from tests.slack.stack import AGENT, AGENT_2, Mode, SlackStack, leaks, wait_for

ANNA = "+" + CUSTOMER
BERT = "+" + CUSTOMER_2
WORKSHOP = "106540352242922"
"""The first number: ``[whatsapp] phone_number_id`` of the Slack stack."""
SALES = "106540352249999"
SALES_CHANNEL = "C0SALES001"
NUMBERS = [
    {"phone_number_id": WORKSHOP, "name": "Werkstatt", "room": CHANNEL},
    {"phone_number_id": SALES, "name": "Verkauf", "room": SALES_CHANNEL},
]
EPOCH = 1_700_000_000.0


async def two_channels(
    start_stack: StartStack, mode: Mode, *, same_ts: bool = False, **sections: Any
) -> SlackStack:
    """The workshop's threads in ``CHANNEL``, the sales team's in ``SALES_CHANNEL``."""
    epoch = EPOCH if same_ts else None
    fake = FakeSlack(mode=mode, rate=1 / FAST_INTERVAL, ack_timeout=1.0, ts_epoch=epoch)
    fake.add_channel(SALES_CHANNEL, "sales", bot_member=True)
    return await start_stack(mode, fake=fake, numbers=NUMBERS, **sections)


def say(stack: SlackStack, customer: str, text: str, to: str) -> None:
    assert stack.sandbox is not None
    stack.sandbox.say(customer, text, to=to)


def phone(stack: SlackStack, customer: str, business: str) -> list[dict[str, Any]]:
    """What the customer's phone shows in its chat with ``business``."""
    assert stack.sandbox is not None
    messages: list[dict[str, Any]] = stack.sandbox.inbox(customer, business)["messages"]
    return messages


def texts(stack: SlackStack, customer: str, business: str) -> list[str]:
    return [str(m["text"]) for m in phone(stack, customer, business) if m.get("text")]


def rooms(stack: SlackStack) -> dict[str, tuple[str, str]]:
    """Each customer's conversation: wa_id → (business number, chat room)."""
    found = stack.rows(
        "SELECT k.wa_id, c.number_id, c.chat_room FROM conversations c"
        " JOIN contacts k ON k.id = c.contact_id"
    )
    return {wa_id: (number, room) for wa_id, number, room in found}


def ts(thread_id: str) -> str:
    """The Slack ``ts`` of a thread id the store keeps: ``<channel>:<ts>`` outside the home
    channel ``[slack] channel_id`` (``adapters.slack.chat_ids``)."""
    return thread_id.rpartition(":")[2]


async def anna_and_bert(stack: SlackStack) -> tuple[str, str]:
    """Anna writes to the workshop, Bert to sales; their threads' ts once both lines are
    in (the store names the sales thread with its channel)."""
    say(stack, ANNA, "Bremsen quietschen", WORKSHOP)
    say(stack, BERT, "Ist der Kombi noch da?", SALES)
    anna = await stack.thread_of(ANNA)
    bert = await stack.thread_of(BERT)
    assert bert == f"{SALES_CHANNEL}:{ts(bert)}" and anna == ts(anna)
    anna, bert = ts(anna), ts(bert)
    await wait_for(lambda: stack.fake.bot_texts(anna, CHANNEL))
    await wait_for(lambda: stack.fake.bot_texts(bert, SALES_CHANNEL))
    await stack.settled()
    return anna, bert


async def test_each_number_has_its_threads_in_its_channel_and_replies_leave_from_it(
    mode: Mode, fast_slack: None, start_stack: StartStack
) -> None:
    stack = await two_channels(start_stack, mode)
    fake = stack.fake
    anna, bert = await anna_and_bert(stack)

    assert [r["ts"] for r in fake.roots(CHANNEL)] == [anna]
    assert [r["ts"] for r in fake.roots(SALES_CHANNEL)] == [bert]
    assert fake.bot_texts(anna, CHANNEL) == ["Bremsen quietschen"]
    assert fake.bot_texts(bert, SALES_CHANNEL) == ["Ist der Kombi noch da?"]
    assert "Written to: Werkstatt" in json.dumps(fake.message(anna, CHANNEL), ensure_ascii=False)
    sales_root = json.dumps(fake.message(bert, SALES_CHANNEL), ensure_ascii=False)
    assert "Written to: Verkauf" in sales_root
    assert rooms(stack) == {CUSTOMER: (WORKSHOP, CHANNEL), CUSTOMER_2: (SALES, SALES_CHANNEL)}

    workshop_reply = await fake.agent_reply(anna, AGENT, "Kommen Sie morgen", channel_id=CHANNEL)
    sales_reply = await fake.agent_reply(
        bert, AGENT_2, "Ja, Probefahrt gern", channel_id=SALES_CHANNEL
    )
    await wait_for(lambda: texts(stack, ANNA, WORKSHOP) and texts(stack, BERT, SALES))
    await stack.settled()
    assert texts(stack, ANNA, WORKSHOP) == ["Kommen Sie morgen"]
    assert texts(stack, BERT, SALES) == ["Ja, Probefahrt gern"]
    assert phone(stack, ANNA, SALES) == [] and phone(stack, BERT, WORKSHOP) == []

    # Delivery marks land on each reply in its own channel.
    await wait_for(lambda: fake.reactions(workshop_reply, CHANNEL), 15)
    await wait_for(lambda: fake.reactions(sales_reply, SALES_CHANNEL), 15)
    for request in fake.calls("reactions.add"):
        ts, channel = request.args["timestamp"], request.args["channel"]
        assert (ts, channel) in {(workshop_reply, CHANNEL), (sales_reply, SALES_CHANNEL)}

    # One Socket Mode connection for both channels (Slack spreads an app's events over
    # its connections at random); in HTTP mode, one endpoint.
    if mode == "socket":
        assert len(fake.calls("apps.connections.open")) == 1 and fake.sockets_open == 1
    assert leaks(fake.wire_text(), [CUSTOMER, CUSTOMER_2]) == []


SAME_TS = pytest.mark.parametrize("same_ts", [False, True], ids=["distinct_ts", "same_ts"])
"""Each test once with distinct ``ts`` and once with the same ``ts`` in both channels."""


@SAME_TS
async def test_replies_buttons_reactions_and_reveal_act_in_their_channel(
    same_ts: bool, fast_slack: None, start_stack: StartStack
) -> None:
    """Replies, marks, buttons, reactions and ``!reveal`` in the sales thread (whose ts
    the workshop's thread has too, with ``same_ts``)."""
    stack = await two_channels(
        start_stack, "socket", same_ts=same_ts, privacy={"reveal_users": [AGENT]}
    )
    fake = stack.fake
    anna, bert = await anna_and_bert(stack)
    assert (anna == bert) is same_ts
    assert rooms(stack) == {CUSTOMER: (WORKSHOP, CHANNEL), CUSTOMER_2: (SALES, SALES_CHANNEL)}

    sales_reply = await fake.agent_reply(
        bert, AGENT_2, "Ja, Probefahrt gern", channel_id=SALES_CHANNEL
    )
    await wait_for(lambda: texts(stack, BERT, SALES))
    await wait_for(lambda: fake.reactions(sales_reply, SALES_CHANNEL), 15)
    assert phone(stack, ANNA, WORKSHOP) == []

    await fake.press_button(bert, AGENT, "claim", channel_id=SALES_CHANNEL)  # takes over
    await stack.settled()

    def root(channel: str, thread: str) -> str:
        return json.dumps(fake.message(thread, channel)["blocks"], ensure_ascii=False)

    assert "State: open, handled by Anna" in root(SALES_CHANNEL, bert)
    assert "State: open, waiting for an agent" in root(CHANNEL, anna)

    [line] = [
        m["ts"] for m in fake.thread(bert, SALES_CHANNEL) if m["text"] == "Ist der Kombi noch da?"
    ]
    await agent_reacts(fake, line, AGENT, "thumbsup", channel_id=SALES_CHANNEL)
    reaction = await wait_for(
        lambda: [m for m in phone(stack, BERT, SALES) if m["type"] == "reaction"], 15
    )
    assert reaction[0]["content"]["emoji"] == "👍"
    assert [m for m in phone(stack, ANNA, WORKSHOP) if m["type"] == "reaction"] == []

    await fake.agent_reply(bert, AGENT, "!reveal Rückruf erbeten", channel_id=SALES_CHANNEL)
    await stack.settled()
    (shown,) = fake.ephemeral
    assert shown["channel"] == SALES_CHANNEL and shown["thread_ts"] == bert
    assert BERT in shown["text"] and ANNA not in shown["text"]
    assert fake.bot_texts(anna, CHANNEL) == ["Bremsen quietschen"]


@SAME_TS
async def test_files_go_both_ways_in_the_numbers_channel(
    same_ts: bool, fast_slack: None, start_stack: StartStack
) -> None:
    """Anna writes to the workshop and sends the invoice to sales: two conversations, the
    file in the sales thread; a file an agent shares there reaches her sales chat."""
    stack = await two_channels(start_stack, "socket", same_ts=same_ts)
    fake = stack.fake
    assert stack.sandbox is not None
    say(stack, ANNA, "Bremsen quietschen", WORKSHOP)
    workshop = await stack.thread_of(ANNA)
    await stack.settled()
    send_file(stack.sandbox, "document", PDF, "application/pdf", filename="Angebot.pdf", to=SALES)
    sales = ts(await wait_for(lambda: dict(rooms_by_number(stack)).get(SALES)))
    await wait_for(lambda: fake.files.in_thread(sales, SALES_CHANNEL), 20)
    await stack.settled()
    assert (workshop == sales) is same_ts
    assert fake.files.in_thread(workshop, CHANNEL) == []
    [shared] = fake.files.in_thread(sales, SALES_CHANNEL)
    assert shared.content == PDF and list(shared.shares) == [SALES_CHANNEL]

    await agent_shares_file(
        fake, sales, AGENT, filename="Preisliste.pdf", content=PDF, channel_id=SALES_CHANNEL
    )
    await wait_for(lambda: [m for m in phone(stack, ANNA, SALES) if m["type"] == "document"], 20)
    await stack.settled()
    assert [m for m in phone(stack, ANNA, WORKSHOP) if m["type"] == "document"] == []


def rooms_by_number(stack: SlackStack) -> list[tuple[str, str]]:
    """Anna's conversations: (business number, thread)."""
    return [
        (number, thread)
        for number, thread in stack.rows(
            "SELECT c.number_id, c.thread_id FROM conversations c"
            " JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = ?",
            CUSTOMER,
        )
        if thread
    ]


async def test_the_template_form_sends_from_the_number_of_its_channel(
    fast_slack: None, start_stack: StartStack
) -> None:
    stack = await two_channels(start_stack, "socket", whatsapp={"waba_id": DEFAULT_WABA_ID})
    fake = stack.fake
    anna, bert = await anna_and_bert(stack)

    await fake.press_button(bert, AGENT, "send_template", channel_id=SALES_CHANNEL)
    [opened] = await wait_for(lambda: list(fake.views.open_views.values()), 5)
    await fake.views.choose(opened.view_id, "template_choice", "order_update|de")
    await wait_for(lambda: any(b.get("block_id") == "parameter-2" for b in opened.view["blocks"]))
    fake.views.type_text(opened.view_id, "parameter-1", "value", "Bert")
    fake.views.type_text(opened.view_id, "parameter-2", "value", "K-7")
    await fake.views.submit(opened.view_id)
    [template] = await wait_for(
        lambda: [m for m in phone(stack, BERT, SALES) if m["type"] == "template"], 15
    )
    await stack.settled()
    assert template["content"]["name"] == "order_update"
    assert "K-7" in json.dumps(template["content"])
    assert any("📨" in line for line in fake.bot_texts(bert, SALES_CHANNEL))
    assert not any("📨" in line for line in fake.bot_texts(anna, CHANNEL))
    assert phone(stack, ANNA, WORKSHOP) == []
