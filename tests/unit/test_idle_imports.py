"""What an idle bot does not need is not imported with it (issue 16: idle RSS ≤ 70 MiB).

``import bot.app`` is what ``empfang run`` loads before it knows the configuration; the
chat adapters, the case systems' clients, Pillow and asyncpg come in when the configuration
(or the first picture) asks for them. A fresh interpreter, so modules imported by other
tests do not hide a regression.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LAZY = (
    "adapters.cases.email",  # aiosmtplib and the e-mail package
    "adapters.cases.webhook",
    "adapters.cases.zammad",
    "adapters.cases.jsonl",
    "aiosmtplib",
    "adapters.matrix",  # matrix-nio, jsonschema, its crypto and HTTP/2 stacks: ~20 MiB
    "nio",
    "adapters.slack",
    "PIL",  # the first customer's picture loads it (bot.media.strip)
    "asyncpg",  # PostgreSQL's: the store's backend and bot.ha load it when configured
    "bot.ha.connection",
    "bot.sandbox",
    "bot.demo",
    "bot.dpo",
)


def imported_by(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_the_app_imports_no_adapter_or_client_before_the_config_asks_for_it() -> None:
    modules = imported_by("bot.app")
    loaded = sorted(
        name for name in modules if any(name == m or name.startswith(f"{m}.") for m in LAZY)
    )
    assert loaded == []


def test_building_a_case_sink_imports_its_module() -> None:
    code = (
        "import sys\n"
        "from adapters.cases import build_sink\n"
        "from bot.config.cases import JsonlSinkSection\n"
        "from bot.texts import ENGLISH\n"
        "build_sink(JsonlSinkSection(type='jsonl', name='desk', path='cases.jsonl'), ENGLISH)\n"
        "print('\\n'.join(sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules = set(out.stdout.split())
    assert "adapters.cases.jsonl" in modules
    assert "adapters.cases.email" not in modules
