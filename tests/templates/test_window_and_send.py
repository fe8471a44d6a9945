"""The 24-hour window and template sends from a Slack thread, end to end: the customer
writes through the sandbox, the agent acts in the fake Slack, the bot runs on a clock the
test moves past the window."""

from __future__ import annotations

from bot.domain import SERVICE_WINDOW_SECONDS
from tests.slack.stack import AGENT, leaks, wait_for
from tests.templates.conftest import CUSTOMER, TemplateStack, notice, thread_after_window


async def test_a_reply_after_the_window_closed_is_not_sent_but_explained(
    stack: TemplateStack,
) -> None:
    thread = await thread_after_window(stack)
    await stack.fake.agent_reply(thread, AGENT, "Es kommt morgen.")
    await stack.settled()
    assert stack.inbox(CUSTOMER) == [], "nothing may reach WhatsApp"
    refusal = notice(stack, thread, "Not sent")
    assert "24-hour window" in refusal
    assert "!templates" in refusal  # no reengage_template configured: the list is suggested
    root = await wait_for(lambda: "window closed" in stack.fake.message(thread)["text"], 5)
    assert root


async def test_the_refusal_suggests_the_configured_reengage_template(
    start_stack: object,
) -> None:
    stack = await start_stack(whatsapp={"reengage_template": "follow_up de"})  # type: ignore[operator]
    thread = await thread_after_window(stack)
    await stack.fake.agent_reply(thread, AGENT, "Hallo?")
    await stack.settled()
    assert "!template follow_up de" in notice(stack, thread, "Not sent")


async def test_a_wrong_parameter_count_is_refused_before_any_request(
    stack: TemplateStack,
) -> None:
    thread = await thread_after_window(stack)
    await stack.fake.agent_reply(thread, AGENT, "!template order_update en_US Erika")
    await stack.settled()
    assert stack.sandbox is not None and stack.sandbox.templates.sends == []
    assert stack.inbox(CUSTOMER) == []
    assert notice(stack, thread, "takes 2 parameters, 1 were given")


async def test_a_valid_template_reaches_the_sandbox_in_metas_shape(
    stack: TemplateStack,
) -> None:
    thread = await thread_after_window(stack)
    await stack.fake.agent_reply(thread, AGENT, "!template order_update en_US Erika | A-1234")
    await stack.settled()
    assert stack.sandbox is not None
    assert stack.sandbox.templates.sends == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": CUSTOMER.lstrip("+"),
            "type": "template",
            "template": {
                "name": "order_update",
                "language": {"code": "en_US"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "Erika"},
                            {"type": "text", "text": "A-1234"},
                        ],
                    }
                ],
            },
        }
    ]
    [received] = stack.inbox(CUSTOMER)
    assert received["type"] == "template"
    preview = next(text for text in stack.notices(thread) if text.startswith("📨"))
    assert "Hello Erika, your order A-1234 has shipped." in preview
    shown = next(m for m in stack.fake.thread(thread) if m["text"].startswith("📨"))
    await wait_for(
        lambda: (
            "white_check_mark" in stack.fake.reactions(shown["ts"])
            or "eyes" in stack.fake.reactions(shown["ts"])
        ),
        10,
    )
    assert stack.rows("SELECT message FROM template_sends") == [(None,)], "parameters forgotten"
    assert not leaks(stack.fake.wire_text(), [CUSTOMER])


async def test_the_root_follows_each_window(stack: TemplateStack) -> None:
    """Closed, opened again by a new message, closed again: the root card says so each time."""
    thread = await thread_after_window(stack)

    def root_text() -> str:
        return str(stack.fake.message(thread)["text"])

    await wait_for(lambda: "window closed" in root_text(), 5)
    stack.say(CUSTOMER, "Hallo? Ist da jemand?")
    await wait_for(lambda: "window open until" in root_text(), 10)
    await stack.settled()
    stack.clock.advance(SERVICE_WINDOW_SECONDS + 60)
    await wait_for(lambda: "window closed" in root_text(), 10)
