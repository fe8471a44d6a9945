"""``X-Hub-Signature-256``: exactly Meta's spelling (``sha256=`` + 64 lowercase hex digits)."""

from __future__ import annotations

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
