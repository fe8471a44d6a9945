"""``python -m bot`` is ``empfang``."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
