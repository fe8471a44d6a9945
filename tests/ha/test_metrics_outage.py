"""``/metrics`` while the database is down: the scrape still answers.

An outage is when on-call reads the exposition most; a 503 there hid every gauge and was
counted as a refused webhook. A cluster of its own: stopping the suite's would break other
tests' connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from bot.app import Empfang
from bot.config import Settings
from tests.support.postgres import postgres_cluster


async def test_metrics_answer_while_the_database_is_down(
    make_settings: Callable[..., Settings],
) -> None:
    with postgres_cluster() as cluster:
        app = Empfang(make_settings(store={"url": cluster.url()}), intake_only=True)
        await app.start()
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
                before = await scrape_until(
                    client, app, 'empfang_ha_database_reachable{replica="vm"} 1.0'
                )
                await asyncio.to_thread(cluster.stop, "immediate")
                during = await client.get(f"{app.url}/metrics")
                ready = await client.get(f"{app.url}/readyz")
        finally:
            await app.stop()
            await asyncio.to_thread(cluster.start_server)
    assert before.status_code == 200
    assert 'empfang_jobs{state="pending"}' in before.text
    assert ready.status_code == 503
    assert during.status_code == 200, during.text
    assert 'outcome="refused_503"} 1' not in during.text  # a scrape is no refused webhook
    assert 'empfang_jobs{state="pending"}' in during.text


async def scrape_until(client: httpx.AsyncClient, app: Empfang, line: str) -> httpx.Response:
    for _ in range(100):
        answer = await client.get(f"{app.url}/metrics")
        if line in answer.text:
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError(f"never scraped {line!r}")
