"""The core's configuration sections: server, store, WhatsApp, sandbox, chat platforms,
privacy, jobs and logging. Keys are user interface; ``config.example.toml`` documents each."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator

from bot.config.base import Duration, OutboundUrl, Section
from bot.texts.catalogue import Language


class ServerSection(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=10.0, gt=0)
    keepalive_timeout_seconds: float = Field(default=15.0, gt=0)
    max_connections: int = Field(default=256, ge=1)


SQLITE_URL = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")


class StoreSection(Section):
    url: str = ""
    """``sqlite:///<path>`` (``sqlite:////var/lib/x`` is absolute) or
    ``postgresql://user@host:port/db?sslmode=verify-full``; empty: the SQLite file ``path``."""
    path: Path = Path("empfang.sqlite3")
    """The SQLite file (set from a ``sqlite:///`` url). With PostgreSQL no database, but
    Empfang's other local files (media spool, kept copies) still live in its folder."""
    password: SecretStr = SecretStr("")
    """PostgreSQL's password, kept out of the url (or ``password_file``)."""
    synchronous: Literal["full", "normal"] = "full"

    @model_validator(mode="after")
    def _url_understood(self) -> StoreSection:
        if not self.url:
            return self
        if self.url.startswith(SQLITE_URL):
            if not self.url.removeprefix(SQLITE_URL):
                raise ValueError("url sqlite:/// needs a file, e.g. sqlite:///empfang.sqlite3")
            self.path = Path(self.url.removeprefix(SQLITE_URL))
            return self
        parts = urlsplit(self.url)
        if parts.scheme not in POSTGRES_SCHEMES:
            raise ValueError(
                "url must be sqlite:///<file> or postgresql://<user>@<host>/<database>"
            )
        if parts.password and self.password.get_secret_value():
            raise ValueError("the PostgreSQL password is given twice: in url and in password")
        return self

    @property
    def postgresql(self) -> bool:
        return urlsplit(self.url).scheme in POSTGRES_SCHEMES

    @property
    def database(self) -> Path | str:
        """What ``Store.open`` takes: the SQLite file, or the PostgreSQL url."""
        return self.url if self.postgresql else self.path

    @property
    def database_password(self) -> str | None:
        return self.password.get_secret_value() or None


class WhatsAppSection(Section):
    provider: Literal["cloud", "sandbox", "twilio"] = "cloud"
    """``twilio``: Twilio's WhatsApp API, configured in ``[twilio]`` (``bot.config.twilio``)."""
    phone_number_id: str = ""
    waba_id: str = ""
    access_token: SecretStr = SecretStr("")
    app_secret: SecretStr = SecretStr("")
    verify_token: SecretStr = SecretStr("")
    api_base: str = ""
    timeout_seconds: float = Field(default=10.0, gt=0)
    reengage_template: str = ""
    """The approved template a closed 24-hour window suggests (``name`` or ``name
    language``); empty: the thread points to ``!templates``."""
    templates_refresh: Duration = Field(default=3600.0, gt=0)
    """How often the template catalogue is read from Meta (needs ``waba_id``)."""

    @model_validator(mode="after")
    def _reengage_template_readable(self) -> WhatsAppSection:
        if self.reengage_template and not self.waba_id:
            raise ValueError("reengage_template needs waba_id: templates are read from there")
        if len(self.reengage_template.split()) > 2:
            raise ValueError('reengage_template is "name" or "name language", e.g. "follow_up de"')
        return self

    def resolved_api_base(self, sandbox: SandboxSection) -> str:
        """The Graph base URL incl. version; the sandbox's own URL when it is the provider."""
        if self.api_base:
            return self.api_base.rstrip("/")
        if self.provider == "sandbox":
            return f"http://{sandbox.host}:{sandbox.port}/{sandbox.api_version}"
        return "https://graph.facebook.com/v23.0"


class SandboxSection(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=0, le=65535)
    api_version: str = "v23.0"
    webhook_url: str = ""
    rate_limit_per_second: float = Field(default=80.0, gt=0)
    pair_limit_burst: int = Field(default=45, ge=1)
    pair_limit_seconds: float = Field(default=6.0, ge=0)
    window_hours: float = Field(default=24.0, gt=0)
    duplicate_deliveries: bool = False
    reorder_deliveries: bool = False
    skip_delivered_probability: float = Field(default=0.0, ge=0, le=1)
    status_delay_seconds: float = Field(default=0.05, ge=0)
    redelivery_seconds: list[float] = Field(default_factory=lambda: [0.5, 2.0, 10.0, 30.0])


class ChatSection(Section):
    platform: Literal["matrix", "slack"] = "matrix"


class MatrixSection(Section):
    homeserver: str = ""
    user_id: str = ""
    access_token: SecretStr = SecretStr("")
    password: SecretStr = SecretStr("")
    device_id: str = "EMPFANG"
    room_id: str = ""
    store_path: Path = Path("matrix-store")
    encryption: bool = False
    pickle_key: SecretStr = SecretStr("")
    allowed_users: list[str] = Field(default_factory=list)


class SlackSection(Section):
    bot_token: SecretStr = SecretStr("")
    app_token: SecretStr = SecretStr("")
    signing_secret: SecretStr = SecretStr("")
    channel_id: str = ""
    allowed_users: list[str] = Field(default_factory=list)
    api_base: OutboundUrl = ""


class PrivacySection(Section):
    pseudonym_key: SecretStr = SecretStr("")
    default_region: str = "DE"
    visible_digits: int = Field(default=2, ge=0, le=4)
    show_profile_name: bool = False
    reply_mode: Literal["all", "explicit"] = "all"
    retention_days: int | None = Field(default=None, ge=1)
    """Alias of ``retention.messages`` in days (``bot.config.retention``)."""
    first_contact_notice: str = ""
    stop_keywords: list[str] = Field(default_factory=lambda: ["STOP", "Stopp", "Abmelden"])
    """A customer message that is one of these (whole, trimmed, any case) is an objection
    (Art. 21, ``bot.objection``): Empfang sends that customer nothing on its own any more."""
    start_keywords: list[str] = Field(default_factory=lambda: ["START"], min_length=1)
    stop_confirmation: str = ""
    """Sent once to a customer who objected, as configured; empty: the catalogue's text."""
    reveal_users: list[str] = Field(default_factory=list)
    """Chat user ids who may ``!reveal <reason>`` a customer's full number (``bot.reveal``)."""
    reveal_ttl: Duration = Field(default=120.0, gt=0)
    """How long a revealed number stays in the Matrix direct room before it is redacted."""
    reveal_per_day: int = Field(default=5, ge=1)
    sign_replies: Literal["none", "first_name", "team"] = "none"
    """Sign agents' replies to customers: ``first_name`` adds ``– Anna`` (``– Anna,
    <team_name>`` with a team name), ``team`` adds ``– <team_name>`` only."""
    team_name: str = ""

    @model_validator(mode="after")
    def _keywords_distinct(self) -> PrivacySection:
        both = {w.strip().casefold() for w in self.stop_keywords} & {
            w.strip().casefold() for w in self.start_keywords
        }
        if both:
            raise ValueError(f"stop_keywords and start_keywords share {sorted(both)}")
        return self

    @model_validator(mode="after")
    def _team_signature_named(self) -> PrivacySection:
        if self.sign_replies == "team" and not self.team_name.strip():
            raise ValueError('sign_replies = "team" needs team_name')
        return self


class JobsSection(Section):
    workers: int = Field(default=4, ge=1, le=64)
    max_attempts: int = Field(default=10, ge=1)
    backoff_base_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=300.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    outage_patience: Duration = Field(default=3 * 86400.0, gt=0)


class UiSection(Section):
    language: Language = "en"
    """What the bot writes for agents and on-call (``bot.texts``). English by default so an
    upgrade never changes the language agents see; ``config.example.toml`` picks ``de``."""


class LoggingSection(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"
    """``json``: one object per line, for log shippers that would otherwise split tracebacks."""
