"""Names of unsupported webhook events are masked: they are stored, shown and logged, and a
forged payload chooses them (issue 12: a number echoed in an error text survived)."""

from __future__ import annotations

import json

import pytest

from adapters.whatsapp.parse import parse_webhook
from tests.masking import NOTATIONS, leaked_digits
from tests.numbers import THIRD_PARTY
from tests.whatsapp_fixtures import envelope


@pytest.mark.parametrize("written", NOTATIONS)
def test_unsupported_event_names_are_masked(written: str) -> None:
    doc = envelope(messages=[])
    doc["entry"][0]["changes"].append({"field": f"x_{written}", "value": {}})
    batch = parse_webhook(json.dumps(doc).encode())
    [event] = batch.unsupported
    assert event.field.startswith("x_")
    assert leaked_digits(event.field, THIRD_PARTY) is None, event.field
