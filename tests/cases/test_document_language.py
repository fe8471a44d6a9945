"""What people read in a case system (Zammad note, e-mail) follows ``[ui] language``; the JSON
document of webhook and JSONL sinks stays language-neutral (its keys are interface)."""

from __future__ import annotations

from bot.cases.document import as_document, as_text, headline, title
from bot.cases.model import Transfer, TransferMessage
from bot.texts import ENGLISH, GERMAN

TRANSFER = Transfer(
    transfer_id="t-1",
    event="transcript",
    conversation_id=7,
    requester="K-7F3A2Q",
    phone="+49 ••• ••••••78",
    opened_at=1_796_029_200.0,
    closed_at=1_796_032_800.0,
    occurred_at=1_796_032_800.0,
    messages=(
        TransferMessage(
            message_id=1, direction="in", at=1_796_029_200.0, kind="text", text="Hallo"
        ),
        TransferMessage(
            message_id=2,
            direction="out",
            at=1_796_029_260.0,
            kind="text",
            text="Moin",
            author="Anna",
        ),
    ),
    categories=("pseudonym",),
)


def test_case_texts_in_german() -> None:
    assert title(TRANSFER, GERMAN) == "WhatsApp K-7F3A2Q (Unterhaltung 7)"
    assert headline("transcript", GERMAN) == "Verlauf der geschlossenen Unterhaltung"
    assert as_text(TRANSFER, GERMAN).splitlines() == [
        "Verlauf der geschlossenen Unterhaltung — WhatsApp K-7F3A2Q",
        "Telefon: +49 ••• ••••••78",
        "Zeit: 2026-11-30T10:00:00.000Z",
        "",
        "[2026-11-30T09:00:00.000Z] Kunde:",
        "Hallo",
        "",
        "[2026-11-30T09:01:00.000Z] Support Anna:",
        "Moin",
    ]


def test_case_texts_in_english_and_the_document_is_the_same_in_both() -> None:
    assert title(TRANSFER, ENGLISH) == "WhatsApp K-7F3A2Q (conversation 7)"
    assert "[2026-11-30T09:01:00.000Z] Agent Anna:" in as_text(TRANSFER, ENGLISH)
    without_author = TRANSFER.model_copy(
        update={"messages": (TRANSFER.messages[1].model_copy(update={"author": None}),)}
    )
    assert "[2026-11-30T09:01:00.000Z] Agent:" in as_text(without_author, ENGLISH)
    assert as_document(TRANSFER, sink="crm", case_id=None)["event"] == "transcript"
