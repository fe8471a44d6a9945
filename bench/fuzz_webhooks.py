"""Long fuzzing run of the webhook contract (``tests/integration/test_webhook_fuzz.py``).

CI runs the same property with the ``ci`` profile (250 examples, fixed seed); this runs the
``long`` profile (20,000 examples, a new random seed each run) and prints hypothesis's
statistics: how many examples ran, the answers they got, and any failure with its
shrunk input::

    .venv/bin/python bench/fuzz_webhooks.py                  # --examples 5000
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

TEST = Path(__file__).parent.parent / "tests" / "integration" / "test_webhook_fuzz.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, help="instead of the profile's 20,000")
    args = parser.parse_args()
    os.environ["EMPFANG_FUZZ_PROFILE"] = "long"
    if args.examples:
        os.environ["EMPFANG_FUZZ_EXAMPLES"] = str(args.examples)
    return int(
        pytest.main([str(TEST), "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics"])
    )


if __name__ == "__main__":
    sys.exit(main())
