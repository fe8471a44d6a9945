"""Property-based fuzzing of the Twilio webhook: mutated, signed forms through the real
server into a real SQLite file (the Cloud path's property, ``test_webhook_fuzz``, for forms).

For every form: the answer is one a delivery may get (never 500, and never 503: the store
is always there, so a 503 would be one for the input's fault); nothing is stored unless it
is 200, and nothing at all for another sender (a message to it, a status from it; their sids
start ``SMx``); after a 200 every valid inbound message for our sender is stored once. The
signature header is sometimes no signature at all (characters outside ASCII, bytes that are
not UTF-8).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from adapters.twilio.parse import parse_form
from adapters.twilio.signature import HEADER, sign
from bot.app import Empfang
from bot.config import Settings
from bot.demo.stack import free_port
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER
from tests.integration.test_webhook_fuzz import BotThread, counts
from tests.numbers import CUSTOMER

OTHER = "whatsapp:+14155550000"
ALLOWED = {200, 400, 401, 403, 413, 415}
FIELDS = [
    "MessageSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MediaUrl0",
    "MediaContentType0",
    "MessageStatus",
    "ErrorCode",
    "Latitude",
    "Longitude",
    "ProfileName",
]
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["", "\x00", "\ud83d", "0", "1", "99999999999", "whatsapp:+1", "read", "²", "١", "1e9"]
    ),
)
ODD_SIGNATURES = [("é" * 28).encode(), b"\xe9" * 28, b"\xff\xfe", ("\u0661" * 27 + "=").encode()]
"""Signature headers that are no signature: compared as they came, they raised (a 503)."""


@st.composite
def forms(draw: st.DrawFn) -> tuple[dict[str, str], bool, str]:
    """A real-shaped inbound message or status callback, maybe for another sender, a few
    fields replaced, removed or added; and how it is signed."""
    foreign = draw(st.booleans())
    sid = ("SMx" if foreign else "SMf") + draw(st.from_regex(r"[0-9a-f]{31}", fullmatch=True))
    ours = OTHER if foreign else SENDER
    if draw(st.booleans()):
        form = {"MessageSid": sid, "From": f"whatsapp:+{CUSTOMER}", "To": ours, "Body": "Hallo"}
        form.update({"NumMedia": "0", "SmsStatus": "received", "WaId": CUSTOMER})
    else:
        state = draw(st.sampled_from(["sent", "delivered", "read", "failed", "undelivered"]))
        form = {
            "MessageSid": sid,
            "MessageStatus": state,
            "From": ours,
            "To": f"whatsapp:+{CUSTOMER}",
        }
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        name = draw(st.sampled_from(FIELDS))
        if name in ("MessageSid", "From", "To"):
            continue  # the sender and the sid are what the property is about
        if draw(st.booleans()):
            form[name] = draw(TEXT)
        else:
            form.pop(name, None)
    return form, foreign, draw(st.sampled_from(["good"] * 6 + ["missing", "wrong", "odd"]))


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Empfang, sqlite3.Connection]]:
    path = tmp_path_factory.mktemp("twilio-fuzz") / "empfang.sqlite3"
    port = free_port()
    config: dict[str, Any] = {
        "server": {"host": "127.0.0.1", "port": port},
        "store": {"path": str(path)},
        "whatsapp": {"provider": "twilio"},
        "twilio": {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from_number": SENDER,
            "webhook_url": f"http://127.0.0.1:{port}/webhooks/twilio",
        },
        "privacy": {"pseudonym_key": "test-pseudonym-key-0123456789"},
    }
    with (
        BotThread(Empfang(Settings(**config), intake_only=True)) as running,
        closing(sqlite3.connect(path)) as reader,
    ):
        yield running.app, reader


@given(case=forms())
@settings(max_examples=120, derandomize=True, deadline=None)
def test_any_form_gets_a_contract_answer_and_other_senders_are_never_stored(
    bot: tuple[Empfang, sqlite3.Connection], case: tuple[dict[str, str], bool, str]
) -> None:
    app, db = bot
    form, foreign, signing = case
    url = f"{app.url}/webhooks/twilio"
    pairs = list(form.items())
    raw = urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode()
    headers: dict[str, str | bytes] = {"Content-Type": "application/x-www-form-urlencoded"}
    if signing == "odd":
        headers[HEADER] = ODD_SIGNATURES[len(form) % len(ODD_SIGNATURES)]
    elif signing != "missing":
        token = AUTH_TOKEN if signing == "good" else "other"
        signed = [
            (k, v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")) for k, v in pairs
        ]
        headers[HEADER] = sign(token, url, signed)
    before = counts(db)
    answer = httpx.post(url, content=raw, headers=headers, timeout=30)
    event(f"answer {answer.status_code}{' (other sender)' if foreign else ''}")
    assert answer.status_code in ALLOWED, answer.text
    for table in ("messages", "status_events"):
        stored = f"SELECT count(*) FROM {table} WHERE provider_id LIKE 'SMx%'"
        assert db.execute(stored).fetchone()[0] == 0
    if answer.status_code != 200 or foreign:
        assert counts(db) == before
        return
    taken = parse_form(parse_qsl(raw.decode("utf-8", "replace")), numbers={SENDER}, now=0)
    for message in taken.messages:
        found = "SELECT count(*) FROM messages WHERE provider_id = ?"
        assert db.execute(found, (message.provider_id,)).fetchone()[0] == 1


def signed_post(app: Empfang, form: dict[str, str]) -> httpx.Response:
    url = f"{app.url}/webhooks/twilio"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        HEADER: sign(AUTH_TOKEN, url, list(form.items())),
    }
    return httpx.post(url, content=urlencode(form).encode(), headers=headers, timeout=30)


@pytest.mark.parametrize("header", ODD_SIGNATURES)
def test_a_signature_header_that_is_no_signature_is_403(
    bot: tuple[Empfang, sqlite3.Connection], header: bytes
) -> None:
    """Probe 2a: ``X-Twilio-Signature: ééé…`` raised in the comparison, answered 503."""
    app, db = bot
    form = {"MessageSid": "SMf" + "1" * 31, "From": f"whatsapp:+{CUSTOMER}", "To": SENDER}
    before = counts(db)
    answer = httpx.post(
        f"{app.url}/webhooks/twilio",
        content=urlencode(form).encode(),
        headers=[
            (b"Content-Type", b"application/x-www-form-urlencoded"),
            (HEADER.encode(), header),
        ],
        timeout=30,
    )
    assert answer.status_code == 403, answer.text
    assert counts(db) == before


@pytest.mark.parametrize(("name", "value"), [("NumMedia", "²"), ("NumMedia", "١")])
def test_a_number_in_other_digits_is_no_number(
    bot: tuple[Empfang, sqlite3.Connection], name: str, value: str
) -> None:
    """``str.isdigit`` takes "²", ``int`` refuses it: a ValueError, answered 503. Not a
    count of media, the message is a text."""
    app, db = bot
    sid = "SMf" + "2" * 29 + str(ord(value[0]) % 100).zfill(2)
    form = {"MessageSid": sid, "From": f"whatsapp:+{CUSTOMER}", "To": SENDER, name: value}
    assert signed_post(app, {**form, "Body": "Hallo"}).status_code == 200
    assert db.execute("SELECT kind FROM messages WHERE provider_id = ?", (sid,)).fetchall() == [
        ("text",)
    ]


def test_an_error_code_in_other_digits_is_no_code(bot: tuple[Empfang, sqlite3.Connection]) -> None:
    app, db = bot
    form = {"MessageSid": "SMf" + "3" * 31, "MessageStatus": "failed", "From": SENDER}
    before = counts(db)
    answer = signed_post(app, {**form, "To": f"whatsapp:+{CUSTOMER}", "ErrorCode": "²"})
    assert answer.status_code == 200
    assert counts(db)["status_events"] == before["status_events"] + 1
