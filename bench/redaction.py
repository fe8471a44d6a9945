"""Time ``redact_text`` per message on a fixed mix of ~200-character customer messages.

Run: ``.venv/bin/python bench/redaction.py`` (``--rounds 7 --repeat 300``). Prints the median
and the best round in CPU milliseconds per message (process time, so other processes on a busy
machine disturb it less than wall time would); the best round is the one least disturbed by
other processes, so compare best with best. Numbers are fake and never printed.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bot.privacy import redact_text

SENDER = "4915112345678"
MESSAGES = [
    # digits everywhere: a number, a date, an order id, a time
    "Hallo, ich habe am 12.03.2024 bestellt (Bestellung 4711-2023-0815) und noch nichts "
    "bekommen. Bitte rufen Sie mich unter 0151 23456789 zurück, ab 14:30 Uhr bin ich da. Danke!",
    # Austrian, an invoice, an IBAN, an amount
    "Grüß Gott! Die Rechnung RE-2026-004711 über 1.299,00 € ist bezahlt; IBAN AT61 1904 3002 "
    "3457 3201. Rückfragen gern an +43 664 1234567 oder per Mail, schöne Grüße aus Wien",
    # file names, a postcode, a bare international number
    "Im Anhang IMG_20240312_143000.jpg und Angebot_0176-3344556.pdf, Lieferung nach 80331 "
    "München. Meine neue Nummer: 4917698765432 — bitte nicht mehr die alte verwenden.",
    # no digits at all: the common case
    "Hallo zusammen, wann kommt das Paket? Ich warte schon seit letzter Woche darauf und "
    "niemand meldet sich. Können Sie mir bitte einen Zwischenstand geben? Vielen Dank!",
    # a link and invisible characters
    "Schreiben Sie mir einfach: https://wa.me/4917612345678?text=Hallo%20Frau%20Meier oder "
    "ruf an unter 0176\u200b1234\u200c5678, ich bin bis 18 Uhr im Büro. Viele Grüße, Erika",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    for message in MESSAGES:  # warm caches (compiled sender pattern, metadata)
        redact_text(message, sender_digits=SENDER)
    per_message: list[float] = []
    for _ in range(args.rounds):
        started = time.process_time()
        for _ in range(args.repeat):
            for message in MESSAGES:
                redact_text(message, sender_digits=SENDER, region="DE")
        elapsed = time.process_time() - started
        per_message.append(elapsed / (args.repeat * len(MESSAGES)) * 1000)
    chars = statistics.mean(len(m) for m in MESSAGES)
    print(
        f"redact_text, {len(MESSAGES)} messages of {chars:.0f} chars on average: "
        f"median {statistics.median(per_message):.3f} ms, best {min(per_message):.3f} ms "
        "per message"
    )


if __name__ == "__main__":
    main()
