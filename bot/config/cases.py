"""The ``[[cases]]`` tables: one per case system a conversation is transferred to.

Each table is one sink, discriminated by ``type``. What a sink may receive is decided here and
nowhere else: ``include_phone`` (default false) is the only way the customer's number leaves
for a case system, and ``transfer`` decides whether every message is sent as it happens or
one transcript when the conversation closes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.config.base import Section, is_loopback, require_tls

Transfer = Literal["every_message", "transcript"]

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$"


class CaseSinkSection(Section):
    """Keys every sink has."""

    name: str = Field(pattern=_NAME_PATTERN)
    include_phone: bool = False
    include_media: bool = False
    """Attach customers' files (stripped, as in the thread); e-mail and Zammad only."""
    transfer: Transfer = "every_message"
    link_template: str = ""

    takes_files: ClassVar[bool] = False
    """The sink can carry files (``include_media``)."""

    @model_validator(mode="after")
    def _media_only_where_files_go(self) -> CaseSinkSection:
        if self.include_media and not self.takes_files:
            raise ValueError("include_media is for e-mail and Zammad sinks only")
        return self

    def case_link(self, case_id: str) -> str | None:
        """The URL agents get from ``!case``; None when the sink has no template."""
        template = self.link_template or self.default_link_template()
        return template.replace("{case_id}", case_id) if template else None

    def default_link_template(self) -> str:
        return ""

    def case_id_problem(self, case_id: str) -> str | None:
        """Why ``case_id`` cannot name a case here (for ``!case <id>``), or None."""
        return None


class WebhookSinkSection(CaseSinkSection):
    type: Literal["webhook"]
    url: str
    secret: SecretStr
    timeout_seconds: float = Field(default=10.0, gt=0)

    check_url = field_validator("url")(require_tls)

    @field_validator("secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value


class ZammadSinkSection(CaseSinkSection):
    type: Literal["zammad"]
    takes_files: ClassVar[bool] = True
    url: str
    token: SecretStr
    group: str = "Users"
    customer_email_domain: str = "whatsapp.invalid"
    timeout_seconds: float = Field(default=10.0, gt=0)

    check_url = field_validator("url")(require_tls)

    def default_link_template(self) -> str:
        return f"{self.url}/#ticket/zoom/{{case_id}}"

    def case_id_problem(self, case_id: str) -> str | None:
        if case_id.isdigit():
            return None
        return "a Zammad ticket id is the number at the end of the ticket's URL"


class EmailSinkSection(CaseSinkSection):
    type: Literal["email"]
    takes_files: ClassVar[bool] = True
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password: SecretStr = SecretStr("")
    from_addr: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    to_addr: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    timeout_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _tls_unless_loopback(self) -> EmailSinkSection:
        if self.security == "none" and not is_loopback(f"smtp://{self.host}"):
            raise ValueError('security = "none" is only allowed for a loopback host')
        return self


class JsonlSinkSection(CaseSinkSection):
    type: Literal["jsonl"]
    path: Path


CaseSinkSettings = Annotated[
    WebhookSinkSection | ZammadSinkSection | EmailSinkSection | JsonlSinkSection,
    Field(discriminator="type"),
]
"""One ``[[cases]]`` table; ``Settings.cases`` is a list of these."""
