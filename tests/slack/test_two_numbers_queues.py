"""One customer writing to two business numbers, each routed to its own Slack channel: each
conversation is a queue of its own (``bot.job_catalog.number_lane``). The whole bot
(``bot.app``) against the fake Slack and the WhatsApp sandbox."""

from __future__ import annotations

from tests.fakes.slack import CHANNEL, FakeSlack
from tests.numbers import CUSTOMER
from tests.slack.conftest import FAST_INTERVAL, StartStack
from tests.slack.stack import wait_for
from tests.slack.test_channels import NUMBERS, SALES, SALES_CHANNEL, WORKSHOP, ts

ANNA = "+" + CUSTOMER


async def test_a_rate_limited_channel_holds_up_only_its_numbers_lines(
    fast_slack: None, start_stack: StartStack
) -> None:
    """The workshop's channel has no posting budget left for 5 s, so its first line gets a
    429 and waits. The lines Anna writes meanwhile to sales are posted in the sales channel
    without waiting for it; the workshop's later lines share one post once its channel is
    free again, as a single number's do. Before, Anna's jobs were one queue: sales waited
    behind the workshop's 429, and alternating lines never combined."""
    fake = FakeSlack(mode="socket", rate=1 / FAST_INTERVAL, ack_timeout=1.0)
    fake.add_channel(SALES_CHANNEL, "sales", bot_member=True)
    stack = await start_stack("socket", fake=fake, numbers=NUMBERS)
    assert stack.sandbox is not None
    fake.throttle(5, CHANNEL)
    for n in range(1, 4):
        stack.sandbox.say(ANNA, f"Werkstatt {n}", to=WORKSHOP)
        stack.sandbox.say(ANNA, f"Verkauf {n}", to=SALES)

    def thread_ts(number: str) -> str | None:
        found = stack.rows(
            "SELECT thread_id FROM conversations WHERE number_id = ? AND thread_id IS NOT NULL",
            number,
        )
        return ts(str(found[0][0])) if found else None

    sales = str(await wait_for(lambda: thread_ts(SALES)))
    workshop = str(await wait_for(lambda: thread_ts(WORKSHOP)))
    expected = ["Verkauf 1", "Verkauf 2", "Verkauf 3"]

    def sales_lines() -> list[str]:
        return [line for text in fake.bot_texts(sales, SALES_CHANNEL) for line in text.split("\n")]

    await wait_for(lambda: sales_lines() == expected, 10)
    assert fake.bot_texts(workshop, CHANNEL) == [], "sales did not wait for the workshop"
    await stack.settled()

    assert fake.bot_texts(workshop, CHANNEL) == ["Werkstatt 1", "Werkstatt 2\nWerkstatt 3"]
    assert sales_lines() == expected
    assert len(fake.rate_limited) == 1
