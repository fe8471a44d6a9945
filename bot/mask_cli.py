"""``empfang mask``: show how a text would reach the agents.

Lets an admin check the redaction on their own customers' typical messages before going live,
without a config file, a database or any network access.
"""

from __future__ import annotations

import sys
from typing import TextIO

import phonenumbers

from bot.privacy import DEFAULT_REGION, DEFAULT_VISIBLE_DIGITS, redact_text

EXIT_OK = 0
EXIT_USAGE = 2


def run_mask(
    region: str = DEFAULT_REGION,
    visible_digits: int = DEFAULT_VISIBLE_DIGITS,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    stderr: TextIO | None = None,
) -> int:
    """Redact each input line and print it at once, so it also works interactively.

    One output line per input line, in order, which keeps ``paste``/``diff`` comparisons easy.
    Returns the process exit code.
    """
    err = stderr if stderr is not None else sys.stderr
    region = region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        err.write(
            f"empfang mask: unknown region {region!r}; use a two-letter ISO code such as DE, "
            "AT or CH\n"
        )
        return EXIT_USAGE
    try:
        for line in iter(stdin.readline, ""):
            text = line.rstrip("\r\n")
            stdout.write(redact_text(text, region=region, visible_digits=visible_digits) + "\n")
            stdout.flush()
    except BrokenPipeError:
        # "empfang mask < corpus.txt | head" closes the pipe early; that is not an error.
        return EXIT_OK
    return EXIT_OK
