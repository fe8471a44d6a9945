"""The root card's Send template button, through the fake Slack's modals: the trigger
opens the form, choosing a template adds its parameter inputs, the submission sends."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.fakes.slack_views import TRIGGER_SECONDS
from tests.slack.stack import AGENT, OUTSIDER, Mode, leaks, wait_for
from tests.templates.conftest import (
    CUSTOMER,
    StartStack,
    TemplateStack,
    notice,
    thread_after_window,
)

FORM = {
    "type": "modal",
    "callback_id": "form",
    "title": {"type": "plain_text", "text": "Form"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
}


async def _open_form(stack: TemplateStack, thread: str, user: str = AGENT) -> str:
    await stack.fake.press_button(thread, user, "send_template")
    opened = await wait_for(lambda: [v for v in stack.fake.views.open_views.values()], 5)
    return str(opened[-1].view_id)


@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_the_form_sends_a_template_end_to_end(start_stack: StartStack, mode: Mode) -> None:
    stack = await start_stack(mode)
    thread = await thread_after_window(stack)
    view_id = await _open_form(stack, thread)
    views = stack.fake.views
    form = views.view(view_id)
    options = form.element("template_choice")[1]["options"]
    assert {o["value"] for o in options} >= {"order_update|en_US", "order_update|de"}
    assert not any(o["value"].startswith(("spring_sale", "old_notice")) for o in options)

    await views.choose(view_id, "template_choice", "order_update|de")
    await wait_for(lambda: any(b.get("block_id") == "parameter-2" for b in form.view["blocks"]))
    views.type_text(view_id, "parameter-1", "value", "Erika")
    views.type_text(view_id, "parameter-2", "value", "B-42")
    delivery = await views.submit(view_id)
    assert delivery.acked and form.closed
    await stack.settled()

    assert stack.sandbox is not None
    [sent] = stack.sandbox.templates.sends
    assert sent["template"] == {
        "name": "order_update",
        "language": {"code": "de"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Erika"}, {"type": "text", "text": "B-42"}],
            }
        ],
    }
    assert "Hallo Erika, Ihre Bestellung B-42 ist unterwegs." in notice(stack, thread, "📨")
    assert not leaks(stack.fake.wire_text(), [CUSTOMER])


async def test_a_submission_from_someone_not_allowed_sends_nothing(stack: TemplateStack) -> None:
    thread = await thread_after_window(stack)
    view_id = await _open_form(stack, thread, OUTSIDER)
    views = stack.fake.views
    await views.choose(view_id, "template_choice", "order_update|en_US")
    form = views.view(view_id)
    await wait_for(lambda: any(b.get("block_id") == "parameter-2" for b in form.view["blocks"]))
    views.type_text(view_id, "parameter-1", "value", "Erika")
    views.type_text(view_id, "parameter-2", "value", "B-42")
    await views.submit(view_id)
    await stack.settled()
    assert stack.sandbox is not None and stack.sandbox.templates.sends == []
    assert notice(stack, thread, "not allowed")


async def test_trigger_ids_last_three_seconds_and_are_exchanged_once() -> None:
    async with FakeSlack() as fake:
        fake.add_user(AGENT, "anna")
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_base)
        trigger = fake.views.trigger(AGENT)
        opened = await client.views_open(trigger_id=trigger, view=FORM)
        view = opened["view"]
        with pytest.raises(SlackApiError) as again:
            await client.views_open(trigger_id=trigger, view=FORM)
        assert again.value.response["error"] == "exchanged_trigger_id"
        stale = fake.views.trigger(AGENT)
        fake.views.triggers[stale].issued = time.monotonic() - TRIGGER_SECONDS - 0.1
        with pytest.raises(SlackApiError) as expired:
            await client.views_open(trigger_id=stale, view=FORM)
        assert expired.value.response["error"] == "expired_trigger_id"
        with pytest.raises(SlackApiError) as unknown:
            await client.views_open(trigger_id="1.2.3", view=FORM)
        assert unknown.value.response["error"] == "invalid_trigger_id"

        updated = await client.views_update(view_id=view["id"], hash=view["hash"], view=FORM)
        with pytest.raises(SlackApiError) as conflict:
            await client.views_update(view_id=view["id"], hash=view["hash"], view=FORM)
        assert conflict.value.response["error"] == "hash_conflict"
        assert updated["view"]["hash"] != view["hash"]
        with pytest.raises(SlackApiError) as missing:
            await client.views_update(view_id="VNOTHERE", view=FORM)
        assert missing.value.response["error"] == "not_found"
        long_title = {**FORM, "title": {"type": "plain_text", "text": "x" * 25}}
        with pytest.raises(SlackApiError) as invalid:
            await client.views_open(trigger_id=fake.views.trigger(AGENT), view=long_title)
        assert invalid.value.response["error"] == "invalid_arguments"


async def test_a_form_opened_too_late_is_logged_not_retried(
    stack: TemplateStack, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack answers ``expired_trigger_id`` after 3 seconds; the press is not repeated (its
    trigger is spent) and nothing else breaks."""
    thread = await thread_after_window(stack)
    stack.fake.latency["views.open"] = TRIGGER_SECONDS + 0.5
    await stack.fake.press_button(thread, AGENT, "send_template")
    await wait_for(lambda: "views.open failed (expired_trigger_id)" in caplog.text, 10)
    assert stack.fake.views.open_views == {}
    assert len(stack.fake.calls("views.open")) == 1
