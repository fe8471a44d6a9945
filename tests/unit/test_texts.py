"""The text catalogues: every language has every key with the same placeholders, and the
code asks only for keys that exist, with exactly the placeholders their templates name."""

from __future__ import annotations

import ast
import dataclasses
import string
from pathlib import Path

import pytest

from bot.config import Settings, load_config
from bot.errors import ConfigError
from bot.texts import CATALOGUES, ENGLISH, GERMAN, Texts, texts_for

ROOT = Path(__file__).resolve().parents[2]
KEYS = [field.name for field in dataclasses.fields(Texts)]

SAME_IN_BOTH = {"video", "sticker", "failure_title"}
"""Keys whose German text is, correctly, the English one."""


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("key", KEYS)
def test_every_language_has_the_key_with_the_same_placeholders(key: str) -> None:
    english = placeholders(getattr(ENGLISH, key))
    for language, texts in CATALOGUES.items():
        text = getattr(texts, key)
        assert text.strip(), f"{language}.{key} is empty"
        assert placeholders(text) == english, f"{language}.{key}"
        assert all(name.isidentifier() for name in placeholders(text)), f"{language}.{key}"
        text.format(**dict.fromkeys(english, "x"))  # no stray braces


@pytest.mark.parametrize("texts", list(CATALOGUES.values()))
def test_durations_read_well_where_they_are_used(texts: Texts) -> None:
    """German abbreviates with a period ("30 Min."): a template that puts its own period
    after a duration would print "Min.."."""
    duration = texts.duration_hours.format(hours=1, minutes=30)
    for key in KEYS:
        template = getattr(texts, key)
        names = placeholders(template)
        if names & {"waited", "window", "duration"}:
            text = template.format(**dict.fromkeys(names, duration))
            assert ".." not in text, key


def test_german_is_translated() -> None:
    untranslated = {key for key in KEYS if getattr(GERMAN, key) == getattr(ENGLISH, key)}
    assert untranslated == SAME_IN_BOTH


def test_the_configured_language_picks_the_catalogue(tmp_path: Path) -> None:
    assert set(CATALOGUES) == {"de", "en"}
    assert texts_for("de") is GERMAN and texts_for("en") is ENGLISH
    assert Settings().ui.language == "en"  # an upgrade keeps what agents see
    assert load_config(ROOT / "config.example.toml").ui.language == "de"  # new installs
    wrong = tmp_path / "config.toml"
    wrong.write_text('[ui]\nlanguage = "fr"\n')
    with pytest.raises(ConfigError, match=r"^ui\.language: "):
        load_config(wrong)


def _texts_expression(node: ast.expr) -> bool:
    """``texts``, ``self._texts``, ``self._policy.texts``: how code holds a catalogue."""
    if isinstance(node, ast.Name):
        return node.id == "texts"
    return isinstance(node, ast.Attribute) and node.attr in ("texts", "_texts")


def _uses() -> tuple[dict[str, list[str]], list[tuple[str, str, set[str]]]]:
    """Every key read from a catalogue in ``bot/`` and ``adapters/`` (where), and every
    ``.format`` call on one (where, key, keyword names)."""
    reads: dict[str, list[str]] = {}
    formats: list[tuple[str, str, set[str]]] = []
    sources = [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("adapters").rglob("*.py")]
    for path in sorted(sources):
        if path.parent.name == "texts":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(ROOT))
        formatted: set[int] = set()
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "format"
                and isinstance(node.func.value, ast.Attribute)
                and _texts_expression(node.func.value.value)
            ):
                assert all(kw.arg for kw in node.keywords), f"{where}: format(**…) on a text"
                assert not node.args, f"{where}: positional format() on a text"
                formats.append((where, node.func.value.attr, {str(kw.arg) for kw in node.keywords}))
                formatted.add(id(node.func.value))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and _texts_expression(node.value)
                and node.attr in KEYS
            ):
                reads.setdefault(node.attr, []).append(where)
                if id(node) not in formatted and placeholders(getattr(ENGLISH, node.attr)):
                    formats.append((where, node.attr, set()))
    return reads, formats


READS, FORMATS = _uses()


def test_every_key_is_used_somewhere() -> None:
    assert sorted(set(KEYS) - set(READS)) == []


@pytest.mark.parametrize(("where", "key", "given"), FORMATS)
def test_code_fills_exactly_the_placeholders_of_the_key(
    where: str, key: str, given: set[str]
) -> None:
    """A text used without ``.format`` would show raw ``{braces}``; a missing keyword is a
    KeyError at run time, a surplus one a sign the template lost a placeholder."""
    assert given == placeholders(getattr(ENGLISH, key)), f"{where}: texts.{key}"
