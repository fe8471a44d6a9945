"""``!buttons <question> | <option> | …``: a question with reply buttons for the customer.

Checked here against WhatsApp's limits before anything is stored or sent, so an agent
learns at once what to change instead of reading a Graph error later.
"""

from __future__ import annotations

from bot.domain import OutboundButtons
from bot.texts import Texts

MAX_BUTTONS = 3
MAX_TITLE = 20
MAX_QUESTION = 1024
"""WhatsApp's limits for reply buttons: three buttons, 20 characters a title, and the
interactive body's 1,024 characters."""


def parse_buttons(argument: str, texts: Texts) -> OutboundButtons | str:
    """The message to send, or the refusal to show in the thread (what to change)."""
    question, *options = (part.strip() for part in argument.split("|"))
    if not question or not 1 <= len(options) <= MAX_BUTTONS or len(question) > MAX_QUESTION:
        return texts.buttons_usage
    if any(not option for option in options) or len(set(options)) != len(options):
        return texts.buttons_usage
    for index, option in enumerate(options, 1):
        if len(option) > MAX_TITLE:  # by position: the option may hold a number
            return texts.buttons_too_long.format(index=index, length=len(option))
    return OutboundButtons(text=question, options=tuple(options))
