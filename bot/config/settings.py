"""Loading and checking the whole configuration: one TOML file, every key overridable by
``EMPFANG_<SECTION>__<KEY>``.

Keys are user interface: ``config.example.toml`` documents each one, and ``empfang
check-config`` reports problems by their TOML key path so an admin knows where to look.
Secrets are ``SecretStr`` (never printed) and can also come from ``<key>_file`` paths, the
way container secrets are mounted.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config.alerts import AlertsSection, BusinessHoursSection
from bot.config.base import PLACEHOLDER_PREFIX, is_loopback
from bot.config.cases import CaseSinkSettings
from bot.config.ha import HaSection
from bot.config.media import MediaSection
from bot.config.numbers import Defaults, Number, NumberEntry, resolve
from bot.config.numbers import problems as number_problems
from bot.config.providers import provider_problems
from bot.config.retention import RetentionSection, with_alias
from bot.config.sections import (
    ChatSection,
    JobsSection,
    LoggingSection,
    MatrixSection,
    PrivacySection,
    SandboxSection,
    ServerSection,
    SlackSection,
    StoreSection,
    UiSection,
    WhatsAppSection,
)
from bot.config.twilio import TwilioSection
from bot.errors import ConfigError

CONFIG_ENV = "EMPFANG_CONFIG"


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
    ui: UiSection = Field(default_factory=UiSection)
    cases: list[CaseSinkSettings] = Field(default_factory=list)
    alerts: AlertsSection = Field(default_factory=AlertsSection)
    business_hours: BusinessHoursSection = Field(default_factory=BusinessHoursSection)
    retention: RetentionSection = Field(default_factory=RetentionSection)
    twilio: TwilioSection = Field(default_factory=TwilioSection)
    ha: HaSection = Field(default_factory=HaSection)
    numbers: list[NumberEntry] = Field(default_factory=list)

    def number_defaults(self) -> Defaults:
        """What a ``[[numbers]]`` entry falls back to: the global sections."""
        return Defaults(
            provider=self.whatsapp.provider,
            phone_number_id=self.whatsapp.phone_number_id,
            from_number=self.twilio.from_number,
            platform=self.chat.platform,
            rooms={"matrix": self.matrix.room_id, "slack": self.slack.channel_id},
            reply_mode=self.privacy.reply_mode,
        )

    def configured_numbers(self) -> tuple[Number, ...]:
        """Every business number this Empfang answers (``bot.config.numbers``)."""
        return resolve(self.numbers, self.number_defaults())

    media: MediaSection = Field(default_factory=MediaSection)

    @model_validator(mode="after")
    def _retention_alias(self) -> Settings:
        self.retention = with_alias(self.retention, self.privacy.retention_days)
        return self

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
    """Each provider some number uses, with its credentials (``bot.config.providers``)."""
    return provider_problems(
        settings.configured_numbers(),
        numbered=bool(settings.numbers),  # the entries name the numbers
        whatsapp=settings.whatsapp,
        twilio=settings.twilio,
        sandbox=settings.sandbox,
        public_url=settings.server.public_url,
    )


def _chat_problems(settings: Settings) -> list[str]:
    """Each platform some number's threads go to, and each number's room or channel."""
    numbers = settings.configured_numbers()
    problems: list[str] = []
    for platform in sorted({number.platform for number in numbers}):
        problems += (
            _matrix_problems(settings) if platform == "matrix" else _slack_problems(settings)
        )
    for index, number in enumerate(numbers):
        global_key = "matrix.room_id" if number.platform == "matrix" else "slack.channel_id"
        where = f"numbers[{index}].room" if settings.numbers else global_key
        if not number.room:
            problems.append(
                f"{where}: required (where its threads go; or {global_key})"
                if settings.numbers
                else f'{global_key}: required for platform = "{number.platform}"'
            )
        elif number.platform == "slack" and not _SLACK_CHANNEL_ID.match(number.room):
            problems.append(f"{where}: {_NOT_A_CHANNEL_ID}")
        slack_alerts = number.alerts_room and number.platform == "slack"
        if slack_alerts and not _SLACK_CHANNEL_ID.match(number.alerts_room):
            problems.append(f"numbers[{index}].alerts_room: {_NOT_A_CHANNEL_ID}")
    return problems


def _matrix_problems(settings: Settings) -> list[str]:
    mx = settings.matrix
    problems = _required(mx, "matrix", ("homeserver", "user_id"), 'for platform = "matrix"')
    if not mx.access_token.get_secret_value() and not mx.password.get_secret_value():
        problems.append("matrix.access_token: required (or matrix.password)")
    insecure = mx.homeserver and not mx.homeserver.startswith("https://")
    if insecure and not is_loopback(mx.homeserver):
        problems.append("matrix.homeserver: must be https:// (plain http only for loopback)")
    if mx.encryption and not mx.pickle_key.get_secret_value():
        problems.append("matrix.pickle_key: required when matrix.encryption = true")
    return problems + _replica_matrix_problems(settings)


def _replica_matrix_problems(settings: Settings) -> list[str]:
    """With PostgreSQL, replicas share one Matrix device: a password login would give each
    its own, and a post retried by another replica (its transaction id is per device) could
    appear twice; E2EE keys are per device and would have to be shared too."""
    if not settings.store.postgresql:
        return []
    mx = settings.matrix
    problems = []
    if not mx.access_token.get_secret_value():
        problems.append(
            "matrix.access_token: required with [store] url = postgresql://… (the replicas"
            " share its one device; a password login gives each replica its own)"
        )
    if mx.encryption:
        problems.append(
            "matrix.encryption: not supported with [store] url = postgresql://… yet (each"
            " replica would hold its own device keys)"
        )
    return problems


def _slack_problems(settings: Settings) -> list[str]:
    sl = settings.slack
    problems = _required(sl, "slack", ("bot_token",), 'for platform = "slack"')
    if not sl.app_token.get_secret_value() and not sl.signing_secret.get_secret_value():
        problems.append("slack.app_token: required for Socket Mode (or slack.signing_secret)")
    return problems + _slack_shape_problems(sl)


_SLACK_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{8,}$")
_NOT_A_CHANNEL_ID = (
    "must be a channel id like C0123ABCDE (not its #name); "
    "find it at the bottom of the channel's details"
)


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
        problems.append(f"slack.channel_id: {_NOT_A_CHANNEL_ID}")
    return problems


def _number_sink_problems(settings: Settings) -> list[str]:
    """A ``[[numbers]] cases`` name that no ``[[cases]]`` entry has."""
    names = {sink.name for sink in settings.cases}
    return [
        f'numbers[{index}].cases: no [[cases]] entry is named "{name}"'
        for index, entry in enumerate(settings.numbers)
        for name in entry.cases or ()
        if name not in names
    ]


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
    if settings.numbers:
        problems += number_problems(settings.numbers, settings.number_defaults())
        problems += _number_sink_problems(settings)
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
