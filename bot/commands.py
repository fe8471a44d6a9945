"""What an agent's thread message asks for: a reply to send, a note, or a command."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Intent = Literal[
    "send",
    "note",
    "close",
    "help",
    "case",
    "hold",
    "release",
    "reveal",
    "ignore",
    "unknown",
    "buttons",
    "templates",
    "template",
]


@dataclass(frozen=True)
class Parsed:
    intent: Intent
    text: str = ""


def parse(text: str, *, reply_mode: str) -> Parsed:
    """``reply_mode = "all"`` sends every message except notes and commands;
    ``"explicit"`` sends only ``!send …`` so a thread can hold internal discussion."""
    stripped = text.strip()
    if not stripped.startswith("!"):
        if reply_mode == "all" and stripped:
            return Parsed("send", stripped)
        return Parsed("ignore")
    word, _, rest = stripped.partition(" ")
    word = word.lower()
    rest = rest.strip()
    if word == "!send":
        return Parsed("send", rest) if rest else Parsed("unknown", word)
    if word == "!note":
        return Parsed("note", rest)
    if word == "!close":
        return Parsed("close")
    if word == "!help":
        return Parsed("help")
    if word == "!case":
        return Parsed("case", rest)
    if word == "!hold":
        return Parsed("hold", rest)
    if word == "!release":
        return Parsed("release")
    if word == "!reveal":
        return Parsed("reveal", rest)
    if word == "!buttons":
        return Parsed("buttons", rest)
    if word == "!templates" or (word == "!template" and not rest):
        return Parsed("templates")
    if word == "!template":
        return Parsed("template", rest)
    return Parsed("unknown", word)
