"""The base every configuration section builds on; nothing in ``bot.config`` is imported here.

Section models for other features (``bot.config.alerts``, ``bot.config.cases``) subclass
:class:`Section` from this module, and ``bot.config.settings`` assembles them, so the import
graph runs one way: base ← sections ← settings.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator

PLACEHOLDER_PREFIX = "CHANGE-ME"
"""Values in ``config.example.toml`` that an admin must replace contain this."""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(value: Any) -> float:
    """Seconds from ``"10m"``, ``"1h30m"``, ``"45s"`` or a plain number of seconds."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().lower().replace(" ", "")
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f'"{value}" is not a duration like "10m", "1h30m" or "45s"')
    return sum(float(n) * _UNIT[u] for n, u in parts)


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds, written in the config as ``"90d"``, ``"10m"``, ``"1h30m"`` or a number."""


class Section(BaseModel):
    """A TOML table. Unknown keys are errors, so a typo is reported instead of ignored."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: Any) -> Any:
        """Replace ``<key>_file = "/path"`` by the file's content for every declared key."""
        if not isinstance(data, dict):
            return data
        resolved = dict(data)
        for name in [k for k in resolved if isinstance(k, str) and k.endswith("_file")]:
            key = name.removesuffix("_file")
            if key not in cls.model_fields:
                continue
            path = Path(str(resolved.pop(name)))
            try:
                secret = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"cannot read {name} {path}: {exc.strerror}") from exc
            resolved.setdefault(key, secret)
        return resolved


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_tls(url: str) -> str:
    """Art. 32: customer data leaves only over TLS; plain http is for loopback test targets."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL")
    if parts.scheme == "http" and not is_loopback(url):
        raise ValueError("must be https:// (plain http only for loopback)")
    return url.rstrip("/")


def _optional_tls(url: str) -> str:
    return require_tls(url) if url else url


OutboundUrl = Annotated[str, AfterValidator(_optional_tls)]
"""A URL Empfang sends data to (empty: not used): https://, plain http only for loopback."""
