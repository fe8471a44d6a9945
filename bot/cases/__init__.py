"""Transfer of conversations to the company's case systems, and the transfer ledger.

``bot.config`` imports the ``[[cases]]`` section models from :mod:`bot.cases.config`, which
subclass ``bot.config.Section``. Importing ``bot.config`` here first keeps that cycle in one
direction whichever module is imported first; keep this package's ``__init__`` free of
anything heavier.
"""

import bot.config  # noqa: F401  (see above: the config cycle must start at bot.config)
