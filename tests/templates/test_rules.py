"""Who may get a template, what the thread shows, and what leaves the bot: objections,
signatures, the catalogue listing, refusals before any request, and a leak scan with
numbers inside template parameters."""

from __future__ import annotations

import logging

import pytest

from tests import numbers
from tests.masking import leaked_digits
from tests.slack.stack import AGENT, wait_for
from tests.templates.conftest import (
    CUSTOMER,
    StartStack,
    TemplateStack,
    notice,
    thread_after_window,
)


async def _thread(stack: TemplateStack, text: str = "Hallo") -> str:
    stack.say(CUSTOMER, text, name="Erika")
    thread = await stack.thread_of(CUSTOMER)
    await wait_for(lambda: any(text in line for line in stack.lines(thread)))
    return thread


async def test_a_customer_who_objected_gets_no_template(stack: TemplateStack) -> None:
    thread = await _thread(stack)
    stack.say(CUSTOMER, "STOP")
    await stack.settled()
    await wait_for(lambda: stack.rows("SELECT objected_at FROM contacts")[0][0] is not None)
    await stack.fake.agent_reply(thread, AGENT, "!template order_update en_US Erika | A-1")
    await stack.settled()
    assert stack.sandbox is not None and stack.sandbox.templates.sends == []
    assert notice(stack, thread, "objected")


@pytest.mark.parametrize(
    ("privacy", "signature"),
    [
        ({}, ""),
        ({"sign_replies": "first_name"}, "\n\n– Anna"),
        ({"sign_replies": "first_name", "team_name": "Kundenservice"}, "\n\n– Anna, Kundenservice"),
        ({"sign_replies": "team", "team_name": "Kundenservice"}, "\n\n– Kundenservice"),
    ],
)
async def test_replies_are_signed_as_configured(
    start_stack: StartStack, privacy: dict[str, str], signature: str
) -> None:
    stack = await start_stack(privacy=privacy)
    thread = await _thread(stack)
    await stack.fake.agent_reply(thread, AGENT, "Gern geschehen.")
    await stack.settled()
    [received] = stack.inbox(CUSTOMER)
    assert received["text"] == "Gern geschehen." + signature


async def test_templates_lists_the_approved_ones_with_parameters(stack: TemplateStack) -> None:
    thread = await _thread(stack)
    await stack.fake.agent_reply(thread, AGENT, "!templates")
    await stack.settled()
    listing = notice(stack, thread, "Approved templates")
    assert "order_update (en_US, utility), 2 parameters" in listing
    assert "Hello {{1}}, your order {{2}} has shipped." in listing
    for refused in ("spring_sale", "old_notice", "new_offer", "rejected_promo"):
        assert refused not in listing


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("!template nope A", "No approved template «nope»"),
        ("!template order_update Erika | A-1", "exists in de, en_US"),
        ("!template hello_world Erika", "takes 0 parameters, 1 were given"),
        ("!template spring_sale de 20 %", "paused"),
        ("!template old_notice en_US", "disabled"),
        ("!template new_offer en_US Erika", "No approved template"),
        ("!template order_update en_US Erika |     A-1     x", "more than four spaces"),
    ],
)
async def test_refusals_come_before_any_request(
    stack: TemplateStack, command: str, says: str
) -> None:
    thread = await thread_after_window(stack)
    await stack.fake.agent_reply(thread, AGENT, command)
    await stack.settled()
    assert stack.sandbox is not None and stack.sandbox.templates.sends == []
    assert notice(stack, thread, says)


async def test_the_whole_catalogue_is_read_page_by_page(stack: TemplateStack) -> None:
    assert stack.sandbox is not None
    await wait_for(lambda: stack.rows("SELECT count(*) FROM message_templates")[0][0])
    for index in range(130):
        stack.sandbox.templates.add(
            {
                "name": f"notice_{index:03d}",
                "language": "de",
                "category": "UTILITY",
                "status": "APPROVED",
                "components": [{"type": "BODY", "text": "Hinweis {{1}}"}],
            }
        )
    thread = await _thread(stack)
    await stack.fake.agent_reply(thread, AGENT, "!template notice_129 de Zahlung")
    await stack.settled()
    assert stack.sandbox.templates.sends == [], "checked against the catalogue read at start"
    assert notice(stack, thread, "No approved template «notice_129»")
    await stack.fake.agent_reply(thread, AGENT, "!templates")
    await stack.settled()
    listing = notice(stack, thread, "Approved templates")
    assert "and 85 more (the list shows the first 50)" in listing  # 135 approved in all
    assert stack.sandbox.templates.reads >= 3, "more than one page of 100"
    await stack.fake.agent_reply(thread, AGENT, "!template notice_129 de Zahlung")
    await stack.settled()
    assert len(stack.sandbox.templates.sends) == 1


async def test_no_number_leaks_from_template_parameters(
    stack: TemplateStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    thread = await thread_after_window(stack)
    third = "+49 176 12345678"
    await stack.fake.agent_reply(
        thread, AGENT, f"!template order_update de Erika {CUSTOMER} | Rückruf {third}"
    )
    await stack.settled()
    assert stack.sandbox is not None
    [sent] = stack.sandbox.templates.sends
    assert sent["template"]["components"][0]["parameters"][1]["text"] == f"Rückruf {third}"
    preview = notice(stack, thread, "📨")
    assert "Hallo Erika" in preview
    posted = "\n".join(r.raw for r in stack.fake.requests if r.method != "users.info")
    for number in (numbers.CUSTOMER, numbers.THIRD_PARTY):
        assert leaked_digits(posted, number) is None, "a number reached Slack"
        assert leaked_digits(caplog.text, number) is None, "a number reached the log"


async def test_whatsapps_refusal_of_a_template_is_explained(stack: TemplateStack) -> None:
    """Paused at Meta after the catalogue was read: the send goes out, WhatsApp answers
    132015, and the thread explains it on the template's post."""
    assert stack.sandbox is not None
    await wait_for(lambda: stack.rows("SELECT count(*) FROM message_templates")[0][0])
    paused = next(
        t
        for t in stack.sandbox.templates.catalogue
        if (t["name"], t["language"]) == ("order_update", "en_US")
    )
    stack.sandbox.templates.add({**paused, "status": "PAUSED"})
    thread = await thread_after_window(stack)
    await stack.fake.agent_reply(thread, AGENT, "!template order_update en_US Erika | A-1")
    await stack.settled()
    assert len(stack.sandbox.templates.sends) == 1
    assert "paused" in notice(stack, thread, "132015")
    shown = next(m for m in stack.fake.thread(thread) if m["text"].startswith("📨"))
    assert "x" in stack.fake.reactions(shown["ts"])
    assert stack.rows("SELECT message FROM template_sends") == [(None,)], "parameters forgotten"


async def test_a_customer_who_stopped_marketing_gets_no_marketing_template(
    stack: TemplateStack,
) -> None:
    """WhatsApp's own opt-out (131050, the customer's setting, not an objection to Empfang)
    arrives as a failed receipt and is explained; utility templates still go."""
    assert stack.sandbox is not None
    thread = await thread_after_window(stack)
    stack.sandbox.set_marketing_stopped(CUSTOMER)
    await stack.fake.agent_reply(thread, AGENT, "!template weekly_deals Äpfel")
    await stack.settled()
    assert "stopped marketing messages" in notice(stack, thread, "131050")
    await stack.fake.agent_reply(thread, AGENT, "!template order_update de Erika | A-1")
    await stack.settled()
    statuses = [m["status"] for m in stack.inbox(CUSTOMER)]
    assert statuses[0] == "failed" and statuses[1] in ("delivered", "read")
