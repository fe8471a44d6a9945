"""Configuration: one TOML file, every key overridable by ``EMPFANG_<SECTION>__<KEY>``.

Keys are user interface: ``config.example.toml`` documents each one, and ``empfang
check-config`` reports problems by their TOML key path so an admin knows where to look.
Secrets are ``SecretStr`` (never printed) and can also come from ``<key>_file`` paths, the
way container secrets are mounted.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigError

PLACEHOLDER_PREFIX = "CHANGE-ME"
"""Values in ``config.example.toml`` that an admin must replace contain this."""

CONFIG_ENV = "EMPFANG_CONFIG"


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


class ServerSection(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)


class StoreSection(Section):
    path: Path = Path("empfang.sqlite3")
    synchronous: Literal["full", "normal"] = "full"


class WhatsAppSection(Section):
    provider: Literal["cloud", "sandbox"] = "cloud"
    phone_number_id: str = ""
    access_token: SecretStr = SecretStr("")
    app_secret: SecretStr = SecretStr("")
    verify_token: SecretStr = SecretStr("")
    api_base: str = ""
    timeout_seconds: float = Field(default=10.0, gt=0)

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
    api_base: str = ""


class PrivacySection(Section):
    pseudonym_key: SecretStr = SecretStr("")
    default_region: str = "DE"
    visible_digits: int = Field(default=2, ge=0, le=4)
    show_profile_name: bool = False
    reply_mode: Literal["all", "explicit"] = "all"
    retention_days: int = Field(default=90, ge=1)
    first_contact_notice: str = ""


class JobsSection(Section):
    workers: int = Field(default=4, ge=1, le=64)
    max_attempts: int = Field(default=10, ge=1)
    backoff_base_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=300.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)


class LoggingSection(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


# The [[cases]], [alerts] and [business_hours] tables subclass Section, so they can only be
# imported once it exists.
from bot.alerts.config import AlertsSection, BusinessHoursSection  # noqa: E402
from bot.cases.config import CaseSinkSettings  # noqa: E402


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_config`."""

    model_config = SettingsConfigDict(
        env_prefix="EMPFANG_",
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    server: ServerSection = Field(default_factory=ServerSection)
    store: StoreSection = Field(default_factory=StoreSection)
    whatsapp: WhatsAppSection = Field(default_factory=WhatsAppSection)
    sandbox: SandboxSection = Field(default_factory=SandboxSection)
    chat: ChatSection = Field(default_factory=ChatSection)
    matrix: MatrixSection = Field(default_factory=MatrixSection)
    slack: SlackSection = Field(default_factory=SlackSection)
    privacy: PrivacySection = Field(default_factory=PrivacySection)
    jobs: JobsSection = Field(default_factory=JobsSection)
    logging: LoggingSection = Field(default_factory=LoggingSection)
    cases: list[CaseSinkSettings] = Field(default_factory=list)
    alerts: AlertsSection = Field(default_factory=AlertsSection)
    business_hours: BusinessHoursSection = Field(default_factory=BusinessHoursSection)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first, then the TOML file (passed as init values), nothing else."""
        return (env_settings, init_settings)


def config_path(explicit: Path | None) -> Path | None:
    """``--config`` wins over ``EMPFANG_CONFIG``; neither means defaults plus environment."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env) if from_env else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc


def _key_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_config(path: Path | None = None) -> Settings:
    """Read the TOML file and environment; raise ConfigError listing every structural error."""
    resolved = config_path(path)
    data = _read_toml(resolved) if resolved else {}
    try:
        return Settings(**data)
    except ValidationError as exc:
        lines = [f"{_key_path(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigError("\n".join(lines)) from exc


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _placeholders(model: BaseModel, prefix: str) -> list[str]:
    found: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(value, BaseModel):
            found += _placeholders(value, key)
            continue
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += _placeholders(item, f"{key}[{index}]")
            continue
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(text, str) and PLACEHOLDER_PREFIX in text:
            found.append(f"{key}: still the example placeholder")
    return found


def _required(section: BaseModel, prefix: str, names: tuple[str, ...], why: str) -> list[str]:
    problems = []
    for name in names:
        value = getattr(section, name)
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not text:
            problems.append(f"{prefix}.{name}: required {why}")
    return problems


def _whatsapp_problems(settings: Settings) -> list[str]:
    wa = settings.whatsapp
    problems = _required(
        wa,
        "whatsapp",
        ("phone_number_id", "access_token", "app_secret", "verify_token"),
        f'for provider = "{wa.provider}"',
    )
    base = wa.resolved_api_base(settings.sandbox)
    if not base.startswith("https://") and not _is_loopback(base):
        problems.append("whatsapp.api_base: must be https:// (plain http only for loopback)")
    return problems


def _chat_problems(settings: Settings) -> list[str]:
    if settings.chat.platform == "matrix":
        mx = settings.matrix
        problems = _required(
            mx, "matrix", ("homeserver", "user_id", "room_id"), 'for platform = "matrix"'
        )
        if not mx.access_token.get_secret_value() and not mx.password.get_secret_value():
            problems.append("matrix.access_token: required (or matrix.password)")
        insecure = mx.homeserver and not mx.homeserver.startswith("https://")
        if insecure and not _is_loopback(mx.homeserver):
            problems.append("matrix.homeserver: must be https:// (plain http only for loopback)")
        if mx.encryption and not mx.pickle_key.get_secret_value():
            problems.append("matrix.pickle_key: required when matrix.encryption = true")
        return problems
    sl = settings.slack
    problems = _required(sl, "slack", ("bot_token", "channel_id"), 'for platform = "slack"')
    if not sl.app_token.get_secret_value() and not sl.signing_secret.get_secret_value():
        problems.append("slack.app_token: required for Socket Mode (or slack.signing_secret)")
    return problems + _slack_shape_problems(sl)


_SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{8,}$")


def _slack_shape_problems(sl: SlackSection) -> list[str]:
    """Tokens pasted into the wrong key and channel names instead of ids are the usual
    setup mistakes; Slack would only answer ``invalid_auth`` / ``channel_not_found``."""
    problems = []
    bot_token = sl.bot_token.get_secret_value()
    if bot_token and not bot_token.startswith("xoxb-"):
        problems.append(
            "slack.bot_token: must be the Bot User OAuth Token (starts with xoxb-), "
            "from OAuth & Permissions"
        )
    app_token = sl.app_token.get_secret_value()
    if app_token and not app_token.startswith("xapp-"):
        problems.append(
            "slack.app_token: must be an app-level token (starts with xapp-) with the "
            "connections:write scope, from Basic Information → App-Level Tokens"
        )
    if sl.channel_id and not _SLACK_CHANNEL_ID.match(sl.channel_id):
        problems.append(
            "slack.channel_id: must be a channel id like C0123ABCDE (not its #name); "
            "find it at the bottom of the channel's details"
        )
    return problems


def check_settings(settings: Settings, *, need_chat: bool = True) -> list[str]:
    """Everything that stops ``empfang run`` from starting, one line per problem."""
    problems = _placeholders(settings, "")
    key = settings.privacy.pseudonym_key.get_secret_value()
    if len(key) < 16:
        problems.append(
            "privacy.pseudonym_key: required, at least 16 characters "
            "(e.g. the output of `openssl rand -base64 32`)"
        )
    problems += _whatsapp_problems(settings)
    if need_chat:
        problems += _chat_problems(settings)
    # A placeholder is reported once even if it also counts as missing.
    seen: set[str] = set()
    unique = []
    for line in problems:
        key_path = line.split(":", 1)[0]
        if key_path not in seen:
            seen.add(key_path)
            unique.append(line)
    return unique


def load_checked(path: Path | None = None, *, need_chat: bool = True) -> Settings:
    """Load and refuse to continue on any problem; for commands that start the bot."""
    settings = load_config(path)
    problems = check_settings(settings, need_chat=need_chat)
    if problems:
        raise ConfigError("\n".join(problems))
    return settings
