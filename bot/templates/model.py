"""What a template is, as far as Empfang sends it: name, language, status, its texts with
their ``{{n}}`` placeholders, and how parameters fill them.

Parameters are positional, as agents give them: the header's placeholders first (a text
header has at most one), then the body's. A template with a media header, a button that
needs a parameter or named parameters cannot be filled from a chat line; it is listed, but
marked as not sendable from the thread.
"""

from __future__ import annotations

import re

from pydantic import Field

from bot.domain import Frozen

APPROVED = "APPROVED"
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
MAX_PARAMETER = 1024
"""Meta's limit for a body text parameter (characters)."""
_CRAMPED = re.compile(r"[\n\t]| {5,}")
"""What Meta refuses inside a text parameter (132018): new lines, tabs, 5+ spaces."""


def placeholders(text: str) -> list[str]:
    """The distinct placeholders of ``text`` in order of first appearance."""
    seen: list[str] = []
    for name in PLACEHOLDER.findall(text):
        if name not in seen:
            seen.append(name)
    return seen


class MessageTemplate(Frozen):
    """One template in one language, as the catalogue lists it."""

    name: str
    language: str
    category: str = ""
    status: str = APPROVED
    header: str | None = None
    """A text header; None without header."""
    header_format: str | None = None
    """``TEXT``, ``IMAGE``, ``VIDEO``, ``DOCUMENT``, ``LOCATION``; None without header."""
    body: str = ""
    footer: str | None = None
    buttons: tuple[str, ...] = ()
    """Button labels, for the preview."""
    button_parameters: int = Field(default=0, ge=0)
    """Buttons whose URL or code needs a parameter (not fillable from the thread)."""
    named_parameters: bool = False
    """``parameter_format: NAMED``: sends would need each parameter's name."""

    @property
    def header_placeholders(self) -> list[str]:
        return placeholders(self.header or "") if self.header_format == "TEXT" else []

    @property
    def body_placeholders(self) -> list[str]:
        return placeholders(self.body)

    @property
    def parameter_count(self) -> int:
        return len(self.header_placeholders) + len(self.body_placeholders)

    @property
    def sendable(self) -> bool:
        """Fillable with positional text parameters alone (no media header, no button
        parameters, no named parameters)."""
        return (
            self.header_format in (None, "TEXT")
            and self.button_parameters == 0
            and not self.named_parameters
        )

    def split(self, parameters: list[str]) -> tuple[list[str], list[str]]:
        """``parameters`` as (header's, body's); the count must be checked before."""
        cut = len(self.header_placeholders)
        return parameters[:cut], parameters[cut:]

    def message(self, parameters: list[str]) -> TemplateMessage:
        """What to send: this template filled with ``parameters`` (count checked before)."""
        header, body = self.split(parameters)
        return TemplateMessage(
            name=self.name, language=self.language, header=tuple(header), body=tuple(body)
        )

    def render(self, parameters: list[str] | None = None) -> str:
        """The text the customer will read; without parameters the placeholders stay."""
        header, body = self.split(parameters) if parameters is not None else ([], [])
        parts = []
        if self.header and self.header_format == "TEXT":
            parts.append(_fill(self.header, self.header_placeholders, header))
        parts.append(_fill(self.body, self.body_placeholders, body))
        if self.footer:
            parts.append(self.footer)
        if self.buttons:
            parts.append(" ".join(f"[{label}]" for label in self.buttons))
        return "\n".join(part for part in parts if part)


def _fill(text: str, names: list[str], values: list[str]) -> str:
    if not values:
        return text
    given = dict(zip(names, values, strict=False))
    return PLACEHOLDER.sub(lambda match: given.get(match.group(1), match.group(0)), text)


def cramped(parameter: str) -> bool:
    """Whether Meta would refuse this text parameter's format (132018)."""
    return bool(_CRAMPED.search(parameter))


class TemplateMessage(Frozen):
    """A template send: which template, and the text parameters of header and body."""

    name: str
    language: str
    header: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
