"""``/metrics`` of the whole bot after customers wrote: Prometheus text with the families
operators alert on, and nothing in any label that identifies a customer."""

from __future__ import annotations

import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.numbers import CUSTOMER, CUSTOMER_2
from tests.slack.conftest import StartStack

IDENTITY = re.compile(r"\d{5,}|K-[0-9A-Z]{4,}|wamid", re.IGNORECASE)
"""Five digits of a number, a pseudonym, a WhatsApp message id."""


async def test_metrics_parse_with_histograms_job_states_and_no_identity(
    fast_slack: None, start_stack: StartStack
) -> None:
    stack = await start_stack("socket")
    for number, text in ((CUSTOMER, "Hallo"), (CUSTOMER, "Noch da?"), (CUSTOMER_2, "Guten Tag")):
        stack.say("+" + number, text)
    await stack.settled()
    assert stack.bot is not None
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{stack.bot.url}/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.text

    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families.values()
        for sample in family.samples
    }
    assert {
        "empfang_webhooks",
        "empfang_messages",
        "empfang_statuses",
        "empfang_jobs",
        "empfang_webhook_ack_seconds",
        "empfang_webhook_to_chat_post_seconds",
        "process_resident_memory_bytes",
        "process_cpu_seconds",
    } <= set(families)
    assert families["empfang_webhook_ack_seconds"].type == "histogram"
    assert families["empfang_jobs"].type == "gauge"
    for family in families:
        if family.startswith("empfang_"):
            assert f"# HELP {family}" in text

    assert samples[("empfang_messages_total", (("outcome", "new"),))] == 3
    assert samples[("empfang_webhook_to_chat_post_seconds_count", ())] == 3
    acks = samples[("empfang_webhook_ack_seconds_count", ())]
    assert acks == samples[("empfang_webhooks_total", (("outcome", "accepted"),))] >= 3
    job_states = {
        dict(labels)["state"]: value
        for (name, labels), value in samples.items()
        if name == "empfang_jobs"
    }
    assert job_states == {"pending": job_states["pending"], "leased": 0, "dead": 0}

    labels = [value for (_, pairs) in samples for _, value in pairs]
    assert labels and not [value for value in labels if IDENTITY.search(value)]
    for number in (CUSTOMER, CUSTOMER_2):
        assert number not in text and number[-7:] not in text
