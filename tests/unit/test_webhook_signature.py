"""``X-Hub-Signature-256``: exactly Meta's spelling (``sha256=`` + 64 lowercase hex digits)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable

import pytest

from adapters.whatsapp.signature import sign, verify
from bot.errors import SignatureError
from tests.support.calls import calls

SECRET = b"app-secret"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def test_metas_spelling_is_accepted() -> None:
    verify(SECRET, BODY, sign(SECRET, BODY))


@pytest.mark.parametrize(
    "spelling",
    [
        lambda good: "sha256=" + good.removeprefix("sha256=").upper(),
        lambda good: good + " ",
        lambda good: good + "\t",
        lambda good: " " + good,
        lambda good: "SHA256=" + good.removeprefix("sha256="),
        lambda good: good[:-1],
    ],
    ids=["uppercase hex", "trailing space", "trailing tab", "leading space", "prefix", "short"],
)
def test_other_spellings_are_refused(spelling: Callable[[str], str]) -> None:
    header = spelling(sign(SECRET, BODY))
    with pytest.raises(SignatureError) as refused:
        verify(SECRET, BODY, header)
    assert refused.value.status == 403


def test_the_check_keeps_the_gil() -> None:
    """``hmac.digest`` lets go of the GIL even for a short body; getting it back from the
    store's thread can take a switch interval (5 ms) for every webhook."""
    header = sign(SECRET, BODY)
    assert calls(lambda: verify(SECRET, BODY, header))["_hashlib.hmac_digest"] == 0


def test_a_large_body_is_checked_without_letting_go_of_the_gil() -> None:
    """hashlib lets go of the GIL for 2 KiB or more in one piece (a long text, a batch of
    receipts): another thread that wants it gets to run in the middle of the check."""
    large = b"x" * 65536
    header = sign(SECRET, large)
    assert _other_thread_ran_during(lambda: verify(SECRET, large, header)) == 0


def _other_thread_ran_during(action: Callable[[], object], rounds: int = 50) -> int:
    """How often a thread that keeps asking for the GIL got it while ``action`` ran; the
    switch interval is set long, so only a release inside ``action`` lets it in."""
    steps = 0
    done = threading.Event()

    def other() -> None:
        nonlocal steps
        while not done.is_set():
            steps += 1
            time.sleep(0)  # lets go of the GIL, and asks for it again at once

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    thread = threading.Thread(target=other)
    thread.start()
    try:
        during = 0
        for _ in range(rounds):
            time.sleep(0.001)
            before = steps
            action()
            during += steps - before
        return during
    finally:
        done.set()
        thread.join()
        sys.setswitchinterval(interval)
