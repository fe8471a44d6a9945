"""Two business numbers in one Empfang: a customer who writes to both has two
conversations and two threads, and each is answered from the number written to.

Before numbers were recorded, both messages landed in one conversation and every reply
left from the first number, so the customer got the second chat's answer in the first.
"""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.customer_actions import business_app_sends
from bot.texts import ENGLISH
from tests.numbers import CUSTOMER
from tests.slack.conftest import StartStack
from tests.slack.stack import AGENT, SlackStack, leaks, wait_for

ANNA = "+" + CUSTOMER
WORKSHOP = "106540352242922"
"""The first number: ``[whatsapp] phone_number_id`` of the Slack stack, as before."""
SALES = "106540352249999"
NUMBERS = [{"phone_number_id": WORKSHOP, "name": "Werkstatt"}, {"phone_number_id": SALES}]


def conversations(stack: SlackStack) -> dict[str, str | None]:
    """Anna's conversations: business number → thread."""
    found = stack.rows(
        "SELECT c.number_id, c.thread_id FROM conversations c"
        " JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = ?",
        CUSTOMER,
    )
    return dict(found)


async def anna_writes(start_stack: StartStack, text: str, to: str) -> SlackStack:
    """A stack with both numbers; Anna's first message goes to ``to``."""
    stack = await start_stack("socket", numbers=NUMBERS)
    say(stack, text, to)
    return stack


async def anna_writes_to_both(
    start_stack: StartStack, numbers: list[dict[str, str]] = NUMBERS
) -> tuple[SlackStack, dict[str, str]]:
    """Anna asks the workshop "Bremsen?" and sales "Kombi?"; the stack and her threads."""
    stack = await start_stack("socket", numbers=numbers)
    say(stack, "Bremsen?", WORKSHOP)
    say(stack, "Kombi?", SALES)
    return stack, await both_threads(stack)


def say(stack: SlackStack, text: str, to: str) -> None:
    assert stack.sandbox is not None
    stack.sandbox.say(ANNA, text, to=to)


async def both_threads(stack: SlackStack) -> dict[str, str]:
    """Anna's two threads, by number, once both are open."""

    def probe() -> dict[str, str] | None:
        found = conversations(stack)
        threads = {number: thread for number, thread in found.items() if thread}
        return threads if len(threads) == 2 else None

    found: dict[str, str] = await wait_for(probe)
    return found


def texts(stack: SlackStack, business: str) -> list[str]:
    """What Anna's phone shows in its chat with ``business``."""
    assert stack.sandbox is not None
    messages: list[dict[str, Any]] = stack.sandbox.inbox(ANNA, business)["messages"]
    return [str(m["text"]) for m in messages]


async def test_one_customer_two_numbers_two_threads_answered_from_each(
    fast_slack: None, start_stack: StartStack
) -> None:
    stack, threads = await anna_writes_to_both(start_stack)
    workshop, sales = threads[WORKSHOP], threads[SALES]
    assert workshop != sales
    await stack.lines_arrive(workshop, ["Bremsen?"])
    await stack.lines_arrive(sales, ["Kombi?"])
    assert stack.lines(workshop) == ["Bremsen?"]
    assert stack.lines(sales) == ["Kombi?"]
    assert "Written to: Werkstatt" in json.dumps(stack.fake.message(workshop), ensure_ascii=False)
    assert "Written to: …9999" in json.dumps(stack.fake.message(sales), ensure_ascii=False)

    await stack.fake.agent_reply(sales, AGENT, "29.900 Euro")
    await stack.fake.agent_reply(workshop, AGENT, "Kommen Sie morgen vorbei")
    await wait_for(lambda: texts(stack, SALES) and texts(stack, WORKSHOP))
    await stack.settled()
    assert texts(stack, WORKSHOP) == ["Kommen Sie morgen vorbei"]
    assert texts(stack, SALES) == ["29.900 Euro"]
    assert leaks(stack.fake.wire_text(), [CUSTOMER]) == []


async def test_the_customer_writes_to_the_second_number_after_the_first_is_answered(
    fast_slack: None, start_stack: StartStack
) -> None:
    """An open conversation with one number takes nothing written to the other."""
    stack = await anna_writes(start_stack, "Hallo Werkstatt", WORKSHOP)
    workshop = await stack.thread_of(ANNA)
    await stack.fake.agent_reply(workshop, AGENT, "Guten Tag")
    await wait_for(lambda: texts(stack, WORKSHOP))
    say(stack, "Hallo Verkauf", SALES)
    sales = await wait_for(lambda: conversations(stack).get(SALES))
    await stack.lines_arrive(sales, ["Hallo Verkauf"])
    await stack.settled()
    assert stack.lines(workshop) == ["Hallo Werkstatt"]
    assert texts(stack, SALES) == []


async def test_conversations_from_before_numbers_belong_to_the_first_number(
    fast_slack: None, start_stack: StartStack
) -> None:
    """Rows the migration leaves without a number ('') are the first number's after a
    start: the customer's next message continues that conversation, answered from it."""
    stack = await anna_writes(start_stack, "Vor dem Update", WORKSHOP)
    thread = await stack.thread_of(ANNA)
    await stack.settled()
    await stack.stop_bot()
    stack.rows("UPDATE conversations SET number_id = ''")  # as the migration leaves them
    await stack.start_bot()
    assert conversations(stack) == {WORKSHOP: thread}
    say(stack, "Nach dem Update", WORKSHOP)
    await stack.lines_arrive(thread, ["Vor dem Update", "Nach dem Update"])
    await stack.fake.agent_reply(thread, AGENT, "Beides gelesen")
    await wait_for(lambda: texts(stack, WORKSHOP))
    assert conversations(stack) == {WORKSHOP: thread}
    assert texts(stack, WORKSHOP) == ["Beides gelesen"]


async def test_each_number_has_its_own_reply_mode(
    fast_slack: None, start_stack: StartStack
) -> None:
    """Sales says ``reply_mode = "explicit"``: a plain message in its thread stays a note
    there, while the workshop (the global "all") sends it; ``!send`` sends for sales."""
    numbers = [NUMBERS[0], {**NUMBERS[1], "reply_mode": "explicit"}]
    stack, threads = await anna_writes_to_both(start_stack, numbers)
    await stack.settled()
    await stack.fake.agent_reply(threads[SALES], AGENT, "intern: Preisliste prüfen")
    await stack.fake.agent_reply(threads[WORKSHOP], AGENT, "Morgen um neun")
    await stack.fake.agent_reply(threads[SALES], AGENT, "!send 29.900 Euro")
    await wait_for(lambda: texts(stack, SALES) and texts(stack, WORKSHOP))
    await stack.settled()
    assert texts(stack, WORKSHOP) == ["Morgen um neun"]
    assert texts(stack, SALES) == ["29.900 Euro"]


async def test_a_business_app_echo_shows_in_the_thread_of_the_number_it_left_from(
    fast_slack: None, start_stack: StartStack
) -> None:
    stack, threads = await anna_writes_to_both(start_stack)
    await stack.settled()
    assert stack.sandbox is not None
    business_app_sends(stack.sandbox, ANNA, "Vom Handy des Verkaufs", SALES)
    echo = ENGLISH.business_echo.format(text="Vom Handy des Verkaufs")
    await stack.lines_arrive(threads[SALES], [echo])
    await stack.settled()
    assert echo not in stack.lines(threads[WORKSHOP])
    assert len(conversations(stack)) == 2
