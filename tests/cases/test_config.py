"""``[[cases]]`` tables: the documented example, secrets from files, refusals by key path."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from adapters.cases import build_sinks
from adapters.cases.email import EmailSink
from adapters.cases.jsonl import JsonlSink
from adapters.cases.webhook import WebhookSink
from adapters.cases.zammad import ZammadSink
from bot.config import Settings, check_settings, load_config
from bot.config.cases import WebhookSinkSection
from bot.errors import ConfigError
from bot.store import Store
from bot.texts import ENGLISH
from bot.wiring import RelayStack, wire_relay
from tests.cases.conftest import WEBHOOK_SECRET, Desk, Receiver, sinks_from
from tests.cases.doubles import RecordingChat, RecordingWhatsApp

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"


def example_cases() -> list[dict[str, Any]]:
    """The commented ``[[cases]]`` tables of config.example.toml, uncommented."""
    text = EXAMPLE.read_text(encoding="utf-8")
    block = text[text.index("# [[cases]]") :]
    lines = [re.sub(r"^# ?", "", line) for line in block.splitlines() if line.startswith("#")]
    return list(tomllib.loads("\n".join(lines))["cases"])


def test_example_tables_are_valid_and_placeholders_are_named() -> None:
    tables = example_cases()
    settings = Settings.model_validate({"cases": tables})
    assert [type(c).__name__ for c in settings.cases] == [
        "WebhookSinkSection",
        "ZammadSinkSection",
        "EmailSinkSection",
        "JsonlSinkSection",
    ]
    required = {"type", "name", "url", "token"}
    defaults = Settings.model_validate(
        {"cases": [{k: v for k, v in tables[1].items() if k in required}]}
    )
    assert settings.cases[1].model_dump() == defaults.cases[0].model_dump(), "example = defaults"
    problems = check_settings(settings, need_chat=False)
    for key in ("cases[0].url", "cases[0].secret", "cases[1].token", "cases[2].host"):
        assert f"{key}: still the example placeholder" in problems


def test_secret_from_file_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "webhook-secret"
    secret.write_text("from-a-file-0123456789\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        "[[cases]]\n"
        'type = "webhook"\nname = "crm"\nurl = "https://crm.example.com/in"\n'
        f'secret_file = "{secret}"\n',
        encoding="utf-8",
    )
    (sink,) = load_config(config).cases
    assert isinstance(sink, WebhookSinkSection)
    assert sink.secret.get_secret_value() == "from-a-file-0123456789"
    monkeypatch.setenv(
        "EMPFANG_CASES", '[{"type": "jsonl", "name": "archive", "path": "/tmp/a.jsonl"}]'
    )
    assert [c.name for c in load_config(config).cases] == ["archive"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"type": "webhook", "name": "x", "url": "http://crm.example.com", "secret": "s" * 16},
            "cases.0.webhook.url: Value error, must be https://",
        ),
        (
            {"type": "webhook", "name": "x", "url": "https://crm.example.com", "secret": "short"},
            "cases.0.webhook.secret: Value error, must be at least 16 characters",
        ),
        (
            {
                "type": "email",
                "name": "m",
                "host": "smtp.example.com",
                "security": "none",
                "from_addr": "a@example.com",
                "to_addr": "b@example.com",
            },
            'security = "none" is only allowed for a loopback host',
        ),
        ({"type": "fax", "name": "f"}, "cases.0: Input tag 'fax' found using 'type'"),
        ({"type": "jsonl", "name": "bad name", "path": "x"}, "cases.0.jsonl.name"),
        ({"type": "jsonl", "name": "a", "path": "x", "colour": "red"}, "cases.0.jsonl.colour"),
    ],
)
def test_refused_by_key_path(tmp_path: Path, table: dict[str, Any], message: str) -> None:
    config = tmp_path / "config.toml"
    lines = ["[[cases]]"] + [f"{key} = {value!r}".replace("'", '"') for key, value in table.items()]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(config)
    assert message in str(error.value)


def wired_from(store: Store, settings: Settings, chat: RecordingChat) -> RelayStack:
    """The production wiring with the sinks ``empfang run`` builds from ``[[cases]]``."""
    sinks = build_sinks(settings.cases, ENGLISH)
    return wire_relay(
        store, settings, chat=chat, whatsapp=RecordingWhatsApp(), texts=ENGLISH, sinks=sinks
    )


async def test_app_builds_every_sink_and_refuses_duplicate_names(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "empfang.sqlite3")
    chat = RecordingChat()
    try:
        wired = wired_from(store, Settings.model_validate({"cases": example_cases()}), chat)
        assert wired.cases is not None
        assert [type(sink) for sink in wired.cases.sinks] == [
            WebhookSink,
            ZammadSink,
            EmailSink,
            JsonlSink,
        ]
        await wired.stop()
        duplicate = Settings.model_validate({"cases": [*example_cases(), example_cases()[3]]})
        with pytest.raises(ConfigError, match=r"cases\[4\].name: 'archive' is used by another"):
            wired_from(store, duplicate, chat)
    finally:
        await store.close()


async def test_app_wiring_posts_the_dead_letter_alert_in_the_thread(
    store: Store, receiver: Receiver
) -> None:
    receiver.secret = b"not-what-empfang-signs-with"
    table = {"type": "webhook", "name": "crm", "url": receiver.url, "secret": WEBHOOK_SECRET}
    chat = RecordingChat()
    desk = Desk(store, sinks_from(table), chat=chat)
    await desk.customer_says("Hallo")
    await desk.settle()
    await desk.close()
    assert len(desk.alerts) == 2
    text, thread_id, key = desk.alerts[0].text, desk.alerts[0].thread_id, desk.alerts[0].key
    assert thread_id == await desk.thread_of() and key.startswith("case-dead-")
    assert "could not be delivered to case system “crm”" in text
