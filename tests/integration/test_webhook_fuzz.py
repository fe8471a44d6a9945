"""Property-based fuzzing of the webhook contract: mutated, signed envelopes through the
real aiohttp app into a real SQLite file.

The property, for every body: the answer is one a delivery may get (200, 400, 401/403,
413, 415 — never 500, and never 503: the store is always there, so a 503 would be one for
the input's fault, which Meta redelivers for days); nothing is stored unless the answer is
200; a 200 means every message the envelope validly carries for the configured number is
stored once, with its job; nothing addressed to another business number is ever stored (its
ids start ``wamid.x``), and a body for another number alone stores nothing at all; no media
id is stored that is not one; everything stored reads back as text.

Besides mutations of real-shaped envelopes, some bodies carry what an outside probe found
(2026-12-02): a change whose ``field`` is any JSON value, an echo with a time beyond 64 bits,
about :data:`~adapters.whatsapp.parse.MAX_ITEMS` changes, a media id that is a path or a
query, and signature headers with characters outside ASCII.

Profiles: ``ci`` (default; fixed seed, bounded) and ``long`` for longer runs::

    EMPFANG_FUZZ_PROFILE=long .venv/bin/pytest -q tests/integration/test_webhook_fuzz.py \\
        --hypothesis-show-statistics        # or: .venv/bin/python bench/fuzz_webhooks.py

``EMPFANG_FUZZ_EXAMPLES`` overrides the profile's number of examples.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from typing import Any, Generic, Protocol, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.whatsapp.parse import MAX_ITEMS, parse_webhook
from adapters.whatsapp.signature import sign
from bot.app import Empfang
from bot.config import Settings
from bot.domain import WebhookBatch
from bot.errors import PayloadError
from tests.conftest import SECRETS
from tests.whatsapp_fixtures import MESSAGES, STATUSES, envelope

settings.register_profile(
    "ci",
    max_examples=250,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_BASE = settings.get_profile(os.environ.get("EMPFANG_FUZZ_PROFILE", "ci"))
PROFILE = settings(
    _BASE, max_examples=int(os.environ.get("EMPFANG_FUZZ_EXAMPLES", _BASE.max_examples))
)

SECRET = SECRETS["app_secret"].encode()
OURS = frozenset({SECRETS["phone_number_id"]})
FOREIGN = "209876543210987"
"""Another business number on the same Meta app; its message and receipt ids start
``wamid.x`` so the property can look for them in the store."""
ALLOWED = {200, 400, 401, 403, 413, 415}
TABLES = ("messages", "jobs", "contacts", "status_events", "unsupported_events")

NASTY_TEXT = st.sampled_from(
    ["\ud83d", "\udfff", "a\ud800b", "\x00", "\n", "x\r\nERROR forged", "\u2028", "\ufeff", ""]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63, 2**63 - 1, -(2**63) - 1, 10**19, 0, -1, 10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    NASTY_TEXT,
    st.from_regex(r"-?[0-9]{1,22}", fullmatch=True),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


DEEP = "fuzz-deeply-nested"
"""Stands for an array nested ``DEEP_LEVELS`` deep, spliced into the serialised body (the
test's own JSON encoder would recurse too deeply)."""
DEEP_LEVELS = 10_000

VALUES = st.one_of(JSON_VALUES, st.just(DEEP))

TIMES = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63, 2**63 - 1, -(2**63) - 1, 10**20, str(2**63), "0", "-1", "1749416383"]),
    st.from_regex(r"-?[0-9]{1,22}", fullmatch=True),
)
ODD_MEDIA_IDS = st.sampled_from(
    ["../../etc/passwd", "1?fields=access_token&x=", "http://evil.example/x", "..", "%2e%2e", ""]
)
ODD_SIGNATURES = [
    ("sha256=" + "é" * 64).encode(),
    b"sha256=" + b"\xe9" * 64,
    ("sha256=" + "\u0661" * 64).encode(),
    b"\xff\xfe",
]
"""Signature headers that are no signature: compared as they came, they raised (a 503)."""


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from paths(value, (*prefix, index))


def mutate(doc: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    """``doc`` with the node at ``path`` replaced, removed or given a new key."""
    if not path:
        return value if action == "replace" else doc
    *parent_path, last = path
    parent = doc
    for step in parent_path:
        parent = parent[step]
    if action == "replace":
        parent[last] = value
    elif action == "remove":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last]["x-fuzz"] = value
    return doc


def add_probe_shape(draw: st.DrawFn, doc: Any, prefix: str, number: str) -> None:
    """Maybe one of the shapes the outside probe found answered 503 or taken whole."""
    shape = draw(st.sampled_from(["none"] * 6 + ["field", "echo", "many", "media id"]))
    event(f"shape {shape}")
    changes = doc["entry"][0]["changes"]
    if shape == "field":  # unhashable or no string: it crashed the check for other numbers
        value = draw(st.sampled_from([{}, {"metadata": {"phone_number_id": number}}]))
        changes.append({"field": draw(JSON_VALUES), "value": value})
    elif shape == "echo":  # a time beyond SQLite's INTEGER crashed the store
        echo = {"from": "15550783881", "to": "4915112345678", "id": f"{prefix}echo"}
        echo.update(timestamp=draw(TIMES), type="text", text={"body": "Gern"})
        value = {"metadata": {"phone_number_id": number}, "message_echoes": [echo]}
        changes.append({"field": "smb_message_echoes", "value": value})
    elif shape == "many":  # every change was one more row, uncounted
        count = MAX_ITEMS + draw(st.sampled_from([1, 8, -8]))  # about the cap, mostly over
        event(f"many changes: {count - MAX_ITEMS:+d}")
        changes.extend({"field": f"f{i % 3}", "value": {}} for i in range(count))
    elif shape == "media id":  # went into the Graph URL with the access token
        image = {"id": draw(ODD_MEDIA_IDS), "mime_type": "image/jpeg"}
        message = dict(MESSAGES["image"], id=f"{prefix}media", image=image)
        changes[0]["value"].setdefault("messages", []).append(message)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str | bytes | None, bool]:
    """A real-shaped envelope, maybe with one of the probe's shapes, mutated a few times,
    serialised, maybe byte-flipped, signed; one in five is addressed to another business
    number (the third item says so)."""
    foreign = draw(st.integers(min_value=0, max_value=4)) == 0
    prefix = "wamid.x" if foreign else "wamid.f"
    names = draw(st.lists(st.sampled_from(sorted(MESSAGES)), max_size=4))
    suffix = draw(st.integers(min_value=0, max_value=50))
    messages = [dict(MESSAGES[n], id=f"{prefix}{suffix}.{i}") for i, n in enumerate(names)]
    statuses = [STATUSES[n] for n in draw(st.lists(st.sampled_from(sorted(STATUSES)), max_size=2))]
    if foreign:
        statuses = [dict(s, id=f"wamid.x-out{i}") for i, s in enumerate(statuses)]
    doc: Any = json.loads(json.dumps(envelope(messages=messages, statuses=statuses)))
    if foreign:
        doc["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = FOREIGN
    add_probe_shape(draw, doc, prefix, FOREIGN if foreign else SECRETS["phone_number_id"])
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        path = draw(st.sampled_from(list(paths(doc))))
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        doc = mutate(doc, path, action, draw(VALUES))
    raw = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    raw = raw.replace(f'"{DEEP}"'.encode(), b"[" * DEEP_LEVELS + b"]" * DEEP_LEVELS)
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        at = draw(st.integers(min_value=0, max_value=max(len(raw) - 1, 0)))
        raw = raw[:at] + bytes([draw(st.integers(min_value=0, max_value=255))]) + raw[at + 1 :]
    signature = draw(st.sampled_from(["good"] * 8 + ["missing", "wrong", "odd"]))
    if signature == "missing":
        return raw, None, foreign
    if signature == "odd":
        return raw, draw(st.sampled_from(ODD_SIGNATURES)), foreign
    return raw, sign(SECRET if signature == "good" else b"other", raw), foreign


class Startable(Protocol):
    async def start(self) -> object: ...
    async def stop(self) -> object: ...


App = TypeVar("App", bound=Startable)


class BotThread(Generic[App]):
    """The bot (or the Slack test stack) on its own event loop in a thread: hypothesis
    calls the test synchronously."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> BotThread[App]:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.app.start(), self._loop).result(30)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self.app.stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Empfang, sqlite3.Connection]]:
    path = tmp_path_factory.mktemp("fuzz") / "empfang.sqlite3"
    config: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": 0},
        "store": {"path": str(path)},
        "whatsapp": {"provider": "sandbox", **SECRETS},
        "privacy": {"pseudonym_key": "test-pseudonym-key-0123456789"},
    }
    with (
        BotThread(Empfang(Settings(**config), intake_only=True)) as running,
        closing(sqlite3.connect(path)) as reader,
    ):
        yield running.app, reader


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def stored_once_with_job(conn: sqlite3.Connection, provider_id: str) -> bool:
    found = conn.execute("SELECT id FROM messages WHERE provider_id = ?", (provider_id,))
    ids = [row[0] for row in found]
    if len(ids) != 1:
        return False
    jobs = conn.execute(
        "SELECT count(*) FROM jobs WHERE json_extract(payload, '$.message_id') = ?", (ids[0],)
    ).fetchone()[0]
    return bool(jobs == 1)


def parsed(raw: bytes) -> WebhookBatch:
    """What the bot takes of ``raw``: its configured number's changes only."""
    try:
        return parse_webhook(raw, numbers=OURS)
    except PayloadError:
        return WebhookBatch()


def is_media_id(conn: sqlite3.Connection, provider_id: str) -> bool:
    """Whether the message's stored media id, if it has one, is one (decimal digits)."""
    sql = "SELECT body ->> '$.media.media_id' FROM messages WHERE provider_id = ?"
    (media_id,) = conn.execute(sql, (provider_id,)).fetchone()
    return media_id is None or (media_id.isascii() and media_id.isdigit())


def foreign_rows(conn: sqlite3.Connection) -> int:
    """Messages and receipts of the other business number in the store: always none."""
    return sum(
        conn.execute(f"SELECT count(*) FROM {table} WHERE provider_id LIKE 'wamid.x%'").fetchone()[
            0
        ]
        for table in ("messages", "status_events")
    )


@given(case=bodies())
@PROFILE
def test_any_signed_envelope_gets_a_contract_answer(
    fuzzed: tuple[Empfang, sqlite3.Connection], case: tuple[bytes, str | bytes | None, bool]
) -> None:
    app, db = fuzzed
    raw, signature, foreign = case
    headers: dict[str, str | bytes] = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    before = counts(db)
    answer = httpx.post(f"{app.url}/webhooks/whatsapp", content=raw, headers=headers, timeout=30)
    event(f"answer {answer.status_code}")
    assert answer.status_code in ALLOWED, answer.text
    assert foreign_rows(db) == 0
    if answer.status_code != 200:
        assert counts(db) == before
        return
    taken = parsed(raw)
    if foreign and not (taken.messages or taken.statuses or taken.unsupported or taken.echoes):
        event("another number's body alone")
        assert counts(db) == before
    for provider_id in (m.provider_id for m in taken.messages):
        assert stored_once_with_job(db, provider_id), provider_id
        assert is_media_id(db, provider_id), provider_id
    for table in TABLES:  # sqlite3 raises on text that is not UTF-8
        db.execute(f"SELECT * FROM {table}").fetchall()
