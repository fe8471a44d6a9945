"""Configuration: one TOML file plus ``EMPFANG_*`` environment, validated by pydantic.

The package is layered so that any module can be imported first: ``base`` (the ``Section``
model and URL checks) imports nothing of Empfang's configuration; ``sections``, ``alerts`` and
``cases`` define the tables; ``settings`` assembles them and loads the file. This module only
re-exports the names callers use.
"""

from bot.config.alerts import AlertsSection, BusinessHoursSection
from bot.config.base import PLACEHOLDER_PREFIX, Section, is_loopback
from bot.config.cases import CaseSinkSettings
from bot.config.media import MediaSection
from bot.config.retention import RetentionSection
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
from bot.config.settings import (
    CONFIG_ENV,
    Settings,
    check_settings,
    config_path,
    load_checked,
    load_config,
)
from bot.config.twilio import TwilioSection

__all__ = [
    "CONFIG_ENV",
    "PLACEHOLDER_PREFIX",
    "AlertsSection",
    "BusinessHoursSection",
    "CaseSinkSettings",
    "ChatSection",
    "JobsSection",
    "LoggingSection",
    "MatrixSection",
    "MediaSection",
    "PrivacySection",
    "RetentionSection",
    "SandboxSection",
    "Section",
    "ServerSection",
    "Settings",
    "SlackSection",
    "StoreSection",
    "TwilioSection",
    "UiSection",
    "WhatsAppSection",
    "check_settings",
    "config_path",
    "is_loopback",
    "load_checked",
    "load_config",
]
