"""Everything the bot writes for agents and on-call, in the language of ``[ui] language``.

The composition root builds one :class:`Texts` from the configuration with
:func:`texts_for` and hands it to whoever writes text (relay, on-call, chat platform, case
hooks); nothing looks the language up by itself.
"""

from __future__ import annotations

from types import MappingProxyType

from bot.texts.catalogue import Language, Texts
from bot.texts.english import ENGLISH
from bot.texts.german import GERMAN

CATALOGUES = MappingProxyType[Language, Texts]({"de": GERMAN, "en": ENGLISH})
"""Every language, read-only: a catalogue is chosen once, never changed at run time."""


def texts_for(language: Language) -> Texts:
    return CATALOGUES[language]


__all__ = ["CATALOGUES", "ENGLISH", "GERMAN", "Language", "Texts", "texts_for"]
