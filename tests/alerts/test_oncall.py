"""SLA timers, business hours, the 24-hour window, notices and operational alerts, driven
by a controllable clock (no real waiting)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.alerts.monitor import MonitoredChat
from bot.chat_targets import ChatTargets
from bot.clock import ManualClock
from bot.errors import PlatformError, TokenInvalid
from bot.routing import chatting_in
from bot.store import Store
from tests.alerts.desk import Desk, PagingReceiver, at
from tests.cases.doubles import RecordingChat

MONDAY_10 = at("2026-11-30 10:00")
OFFICE = {"weekly": {day: ["08:00-18:00"] for day in ("monday", "tuesday", "wednesday")}}


async def open_store(path: Path, start: float) -> Store:
    return await Store.open(path / "alerts.sqlite3", clock=ManualClock(start))


async def test_unanswered_reminded_escalated_and_resolved_by_reply(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    store = await open_store(tmp_path, MONDAY_10)
    desk = Desk(store, pager.url)
    await desk.customer_says("Hallo, ist da jemand?")
    await desk.advance_to(MONDAY_10 + 9 * 60)
    assert desk.alert_texts() == []
    await desk.advance_to(MONDAY_10 + 11 * 60)
    (reminder,) = desk.alert_texts()
    assert reminder.startswith("⏰ @oncall:example.org K-") and "waited 10 min" in reminder
    assert pager.events == [], "a reminder is not a page"
    await desk.advance_to(MONDAY_10 + 31 * 60)
    assert desk.alert_texts()[-1].startswith("🚨 @oncall:example.org Escalated")
    (trigger,) = pager.events
    assert trigger["event_action"] == "trigger" and trigger["routing_key"] == "R0UT1NGKEY"
    assert trigger["payload"]["severity"] == "critical"
    await desk.agent_says("Entschuldigung, wir sind da!")
    assert [e["event_action"] for e in pager.events] == ["trigger", "resolve"]
    assert pager.events[1]["dedup_key"] == trigger["dedup_key"]
    await store.close()


async def test_a_reply_before_the_deadline_means_no_alert(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    store = await open_store(tmp_path, MONDAY_10)
    desk = Desk(store, pager.url)
    await desk.customer_says("Hallo")
    await desk.advance_to(MONDAY_10 + 5 * 60)
    await desk.agent_says("Guten Tag!")
    await desk.advance_to(MONDAY_10 + 3600)
    assert desk.alert_texts() == [] and pager.events == []
    await store.close()


async def test_a_customer_reaction_after_the_answer_starts_no_timer(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    """A 👍 on the agent's answer says "thanks", not "I am waiting": no reminder, no page."""
    store = await open_store(tmp_path, MONDAY_10)
    desk = Desk(store, pager.url)
    asked = await desk.customer_says("Wann habt ihr offen?")
    await desk.advance_to(MONDAY_10 + 60)
    await desk.agent_says("Bis 18 Uhr.")
    await desk.advance_to(MONDAY_10 + 120)
    await desk.customer_reacts("👍", to=asked)
    await desk.advance_to(MONDAY_10 + 3600)
    assert desk.alert_texts() == [] and pager.events == []
    await store.close()


async def test_timers_survive_a_restart(tmp_path: Path, pager: PagingReceiver) -> None:
    store = await open_store(tmp_path, MONDAY_10)
    await Desk(store, pager.url).customer_says("Hallo")
    await store.close()
    store = await open_store(tmp_path, MONDAY_10 + 15 * 60)  # the bot was down for a while
    desk = Desk(store, pager.url)
    await desk.pool.run_until_idle()
    assert len(desk.alert_texts()) == 1 and "waited 10 min" in desk.alert_texts()[0]
    await store.close()


async def test_out_of_hours_one_auto_reply_and_sla_counts_business_time(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    friday_evening = at("2026-11-27 20:00")
    store = await open_store(tmp_path, friday_evening)
    desk = Desk(
        store,
        pager.url,
        hours={**OFFICE, "out_of_hours_reply": "Wir sind ab Montag 8 Uhr wieder da."},
    )
    await desk.customer_says("Hallo?")
    await desk.customer_says("Noch jemand da?")
    assert [text for _, text in desk.whatsapp.sent] == ["Wir sind ab Montag 8 Uhr wieder da."]
    await desk.advance_to(at("2026-11-30 08:09"))
    assert not [t for t in desk.alert_texts() if "waited" in t], "no SLA alert over the weekend"
    await desk.advance_to(at("2026-11-30 08:11"))
    assert len([t for t in desk.alert_texts() if "waited" in t]) == 1
    await desk.customer_says("Und jetzt?")  # in hours: no second auto-reply
    assert len(desk.whatsapp.sent) == 1
    await store.close()


async def test_holiday_is_closed(tmp_path: Path, pager: PagingReceiver) -> None:
    store = await open_store(tmp_path, at("2026-11-27 20:00"))
    desk = Desk(store, pager.url, hours={**OFFICE, "holidays": ["2026-11-30"]})
    await desk.customer_says("Hallo?")
    await desk.advance_to(at("2026-11-30 17:00"))
    assert not [t for t in desk.alert_texts() if "waited" in t], "the holiday does not count"
    await desk.advance_to(at("2026-12-01 08:11"))
    assert len([t for t in desk.alert_texts() if "waited" in t]) == 1
    await store.close()


async def test_urgent_keyword_pages_at_once_at_any_hour(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    store = await open_store(tmp_path, at("2026-11-28 03:00"))  # Saturday night
    desk = Desk(store, pager.url, hours={**OFFICE, "urgent_keywords": ["Notfall"]})
    await desk.customer_says("NOTFALL: Wasserrohrbruch im Lager")
    assert [e["event_action"] for e in pager.events] == ["trigger"]
    assert "Urgent WhatsApp message from K-" in pager.events[0]["payload"]["summary"]
    assert any(text.startswith("🚨 @oncall:example.org Urgent") for text in desk.alert_texts())
    await store.close()


async def test_window_warning_one_hour_before_it_closes(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    store = await open_store(tmp_path, MONDAY_10)
    desk = Desk(store, pager.url, alerts={"unanswered_after": "30h", "escalate_after": "40h"})
    await desk.customer_says("Bitte um Rückruf")
    await desk.advance_to(MONDAY_10 + 22 * 3600 + 59 * 60)
    assert desk.alert_texts() == []
    await desk.advance_to(MONDAY_10 + 23 * 3600 + 60)
    (warning,) = desk.alert_texts()
    assert "24-hour WhatsApp window closes at 10:00" in warning
    await store.close()


async def test_no_window_warning_after_an_answer(tmp_path: Path, pager: PagingReceiver) -> None:
    store = await open_store(tmp_path, MONDAY_10)
    desk = Desk(store, pager.url)
    await desk.customer_says("Hallo")
    await desk.agent_says("Hallo zurück")
    await desk.advance_to(MONDAY_10 + 24 * 3600)
    assert not any("window" in text for text in desk.alert_texts())
    await store.close()


async def test_first_contact_notice_sent_exactly_once_per_customer(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    store = await open_store(tmp_path, MONDAY_10)
    notice = "Datenschutzhinweis: https://example.com/datenschutz"
    desk = Desk(store, pager.url, first_contact_notice=notice)
    await desk.customer_says("Hallo")
    await desk.customer_says("Noch eine Frage")
    await desk.agent_says("!close")
    await desk.customer_says("Neues Anliegen")  # a new conversation, the same customer
    await desk.customer_says("Hallo", wa_id="436641234567")  # another customer
    sent = [(to, text) for to, text in desk.whatsapp.sent if text == notice]
    assert sent == [("4915112345678", notice), ("436641234567", notice)]
    thread_posts = desk.chat.posts[await desk.thread()]
    assert any(post.startswith("ℹ️ Privacy notice sent") for post in thread_posts)
    await store.close()


async def test_token_alert_fires_once_and_resolves(tmp_path: Path, pager: PagingReceiver) -> None:
    store = await open_store(tmp_path, MONDAY_10)
    desk = Desk(store, pager.url)
    await desk.customer_says("Hallo")
    real_send = desk.whatsapp.send_text

    async def expired(to: str, message: object) -> str:
        raise TokenInvalid("token expired", code=190)

    desk.whatsapp.send_text = expired  # type: ignore[method-assign]
    await desk.agent_says("eins")
    await desk.agent_says("zwei")
    token_alerts = [t for t in desk.alert_texts() if "access token" in t]
    assert len(token_alerts) == 1 and "whatsapp.access_token" in token_alerts[0]
    desk.whatsapp.send_text = real_send  # type: ignore[method-assign]
    await desk.agent_says("drei")
    assert desk.alert_texts()[-1].startswith("✅ Resolved: WhatsApp accepts the access token")
    assert [e["event_action"] for e in pager.events] == ["trigger", "resolve"]
    assert len({e["dedup_key"] for e in pager.events}) == 1
    await store.close()


async def test_signature_failures_alert_once_then_resolve(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    from bot.errors import SignatureError

    store = await open_store(tmp_path, MONDAY_10)
    desk = Desk(store, pager.url, alerts={"signature_failures_threshold": 3})
    for _ in range(6):
        await desk.oncall.signature_failed(SignatureError("bad", missing=False))
    await desk.pool.run_until_idle()
    assert len([t for t in desk.alert_texts() if "signature" in t]) == 1
    await desk.oncall.webhook_accepted()  # too soon: failures are recent
    await desk.pool.run_until_idle()
    assert not any(t.startswith("✅") for t in desk.alert_texts())
    desk.clock.advance(301)
    await desk.oncall.webhook_accepted()
    await desk.pool.run_until_idle()
    assert desk.alert_texts()[-1].startswith("✅ Resolved: webhooks are correctly signed")
    await store.close()


class FlakyChat(RecordingChat):
    down = False

    async def post(self, thread_id: str, text: str, *, key: str) -> str:
        if self.down:
            raise PlatformError("homeserver unreachable", retryable=True)
        return await super().post(thread_id, text, key=key)


async def test_chat_outage_pages_once_then_resolves(tmp_path: Path, pager: PagingReceiver) -> None:
    store = await open_store(tmp_path, MONDAY_10)
    chat = FlakyChat()
    desk = Desk(store, pager.url, chat=chat, alerts={"unanswered_after": "2h"}, max_attempts=100)
    await desk.customer_says("eins")
    chat.down = True
    await desk.customer_says("zwei")
    await desk.advance_to(MONDAY_10 + 4 * 60)
    assert pager.events == [], "short hiccups do not page"
    await desk.advance_to(MONDAY_10 + 10 * 60)
    assert [e["event_action"] for e in pager.events] == ["trigger"]
    assert "unreachable for more than 5 min" in pager.events[0]["payload"]["summary"]
    chat.down = False
    await desk.advance_to(MONDAY_10 + 20 * 60)
    assert [e["event_action"] for e in pager.events] == ["trigger", "resolve"]
    assert chat.posts[await desk.thread()] == ["eins", "zwei"]
    await store.close()


async def test_with_two_platforms_each_outage_is_its_own_alert(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    """Slack down while Matrix answers: Matrix's successes used to end the outage at every
    call, so Slack was never reported; and the alert named "matrix+slack"."""
    store = await open_store(tmp_path, MONDAY_10)
    desk = Desk(store, pager.url)
    matrix, slack = FlakyChat(), FlakyChat()
    matrix.name, slack.name = "matrix", "slack"
    both = ChatTargets({"matrix": matrix, "slack": slack}, "matrix")  # type: ignore[dict-item]
    watched = MonitoredChat(both, desk.oncall, desk.clock, 300, default_platform="matrix")
    slack.down = True
    for minute in range(11):
        with chatting_in("C0SLACK", platform="slack"), pytest.raises(PlatformError):
            await watched.post("1700000000.000100", "to slack", key=f"slack-{minute}")
        await watched.post("!room:example.org", "to matrix", key=f"matrix-{minute}")
        desk.clock.advance(60)
    await desk.pool.run_until_idle()
    assert [e["event_action"] for e in pager.events] == ["trigger"]
    summary = pager.events[0]["payload"]["summary"]
    assert "slack" in summary and "matrix" not in summary
    slack.down = False
    with chatting_in("C0SLACK", platform="slack"):
        await watched.post("1700000000.000100", "to slack", key="slack-back")
    await desk.pool.run_until_idle()
    assert [e["event_action"] for e in pager.events] == ["trigger", "resolve"]
    await store.close()


async def test_dead_lettered_job_alerts_without_numbers(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    store = await open_store(tmp_path, MONDAY_10)
    chat = FlakyChat()
    desk = Desk(store, pager.url, chat=chat, alerts={"unanswered_after": "5h"})
    chat.down = True
    await desk.customer_says("Hallo, 0151 12345678")
    await desk.advance_to(MONDAY_10 + 60)
    await desk.advance_to(MONDAY_10 + 120)
    chat.down = False
    await desk.advance_to(MONDAY_10 + 600)
    dead = [t for t in desk.alert_texts() if "failed permanently" in t]
    assert len(dead) == 1 and "relay.inbound" in dead[0]
    assert all("12345678" not in t for t in desk.alert_texts())
    await store.close()


async def test_button_presses_of_agents_not_on_the_allow_list_are_refused(
    tmp_path: Path, pager: PagingReceiver
) -> None:
    from bot.ports import AgentAction

    store = await open_store(tmp_path, MONDAY_10)
    desk = Desk(store, pager.url, allowed_users=frozenset({"@alice:x"}))
    await desk.customer_says("Hallo")
    thread = await desk.thread()
    await desk.relay.on_agent_event(
        AgentAction(action="close", thread_id=thread, author_id="@mallory:x", author_name="M")
    )
    await desk.pool.run_until_idle()
    async with store.transaction() as tx:
        conversation = await tx.conversations.get(1)
    assert conversation is not None and conversation.is_open
    assert desk.chat.posts[thread][-1] == "⛔ M may not close conversations."
    await store.close()
