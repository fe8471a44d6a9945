"""The base every configuration section builds on; nothing in ``bot.config`` is imported here.

Section models for other features (``bot.config.alerts``, ``bot.config.cases``) subclass
:class:`Section` from this module, and ``bot.config.settings`` assembles them, so the import
graph runs one way: base ← sections ← settings.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, model_validator

PLACEHOLDER_PREFIX = "CHANGE-ME"
"""Values in ``config.example.toml`` that an admin must replace contain this."""


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
