"""``empfang privacy record``: the Art. 30 record from the effective configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

CONFIG = """
[chat]
platform = "{platform}"
[slack]
channel_id = "C0123"
[matrix]
homeserver = "https://matrix.example.de"
room_id = "!support:example.de"
[privacy]
retention_days = 30
[retention]
media = "7d"
contacts = "180d"
closed_conversations = "36h"
[alerts.webhook]
url = "https://events.pagerduty.com/v2/enqueue"
[[cases]]
type = "webhook"
name = "crm"
url = "https://crm.example.de/hooks/empfang"
secret = "0123456789abcdef0123"
[[cases]]
type = "zammad"
name = "tickets"
url = "https://zammad.example.de"
token = "zammad-token-0123456789"
[[cases]]
type = "email"
name = "helpdesk"
host = "smtp.example.de"
from_addr = "bot@example.de"
to_addr = "support@example.de"
include_phone = true
[[cases]]
type = "jsonl"
name = "archive"
path = "/var/lib/empfang/cases.jsonl"
"""
SINKS = {"crm": "webhook", "tickets": "zammad", "helpdesk": "email", "archive": "jsonl"}
PERIODS = ("30 days", "7 days (files in the chat, kept copies)", "180 days", "1.5 days")


def record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, platform: str = "slack"
) -> str:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(platform=platform), encoding="utf-8")
    assert main(["privacy", "record", "--config", str(path), "--format", fmt]) == 0
    return capsys.readouterr().out


def test_markdown_lists_every_sink_period_and_transfer_abroad(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = record(tmp_path, capsys, "md")
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if "|" in line}
    for name, kind in SINKS.items():
        [row] = [line for key, line in rows.items() if key.startswith(f"{name} (")]
        assert f"case system: {kind}" in row
    assert "the number in full" in rows["helpdesk (support@example.de via smtp.example.de)"]
    assert rows["archive (JSONL file /var/lib/empfang/cases.jsonl)"].endswith("| no |")
    meta = next(line for key, line in rows.items() if key.startswith("Meta Platforms"))
    slack = next(line for key, line in rows.items() if key.startswith("Slack"))
    assert meta.endswith("| **yes** |") and slack.endswith("| **yes** |")
    assert rows["PagerDuty"].endswith("| **yes** |")
    for name, period in zip(
        ("messages", "media", "contacts (inactive)", "closed_conversations"), PERIODS, strict=True
    ):
        assert f"| {name} | {period} |" in text
    assert "Agents' replies are removed only on Matrix" in text


def test_json_names_the_matrix_homeserver_and_leaves_its_location_to_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(record(tmp_path, capsys, "json", platform="matrix"))
    assert document["schema"] == "empfang.record-of-processing/1"
    kinds = [r["kind"] for r in document["recipients"]]
    assert kinds == ["messaging", "chat platform"] + [
        f"case system: {k}" for k in SINKS.values()
    ] + ["paging service"]
    chat = document["recipients"][1]
    assert "matrix.example.de" in chat["name"] and chat["third_country"] is None
    assert list(document["retention"].values())[:4] == list(PERIODS)
    assert document["notes"] and "redaction_retention_period" in document["notes"][0]
    assert not any("Slack" in r["name"] for r in document["recipients"])
