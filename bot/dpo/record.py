"""The record of processing activities (Art. 30) as the effective configuration describes it.

Written from the configuration the bot would run with, so it names what is really enabled:
each case system by name and where it sends data, the chat platform, the paging service,
the retention periods. Facts the configuration cannot know (the controller's name, a
Matrix homeserver's or a webhook target's location) are marked ``check`` for the officer to
fill in, never guessed. What the purge cannot reach in the chat is said in the notes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from bot.config import Settings
from bot.config.cases import (
    CaseSinkSettings,
    EmailSinkSection,
    JsonlSinkSection,
    WebhookSinkSection,
    ZammadSinkSection,
)
from bot.config.retention import days

CHECK = "check"
"""A fact the configuration cannot tell: the officer fills it in."""

_KNOWN_HOSTS = {
    "slack.com": ("Slack Technologies (Salesforce)", "USA"),
    "pagerduty.com": ("PagerDuty", "USA"),
    "opsgenie.com": ("Atlassian (Opsgenie)", "USA"),
    "atlassian.net": ("Atlassian", "USA"),
}
"""Services whose operator and third-country location are well known."""

CHAT_REMOVAL = (
    "The daily purge removes due data from Empfang's store, and from the chat the thread of"
    " every conversation it removes (the root says why) and the post of every message body"
    " due earlier: the bot's own posts are deleted (Slack) or redacted (Matrix), with its"
    " delivery marks and edits. Agents' replies are removed only on Matrix with the bot a"
    " moderator; in Slack they stay (a bot may delete only its own messages) and the audit"
    " trail counts them. A customer's file leaves the chat with its line, or alone when"
    " media are due first (Slack: the file is deleted; Matrix: its event is redacted, the"
    " upload stays in Synapse's media repository until an admin purges it). Synapse keeps"
    " redacted content for its redaction_retention_period."
)


@dataclass(frozen=True)
class Recipient:
    name: str
    kind: str
    role: str
    receives: str
    location: str
    third_country: bool | None
    """True: outside the EU/EEA; None: unknown from the configuration (check)."""


@dataclass(frozen=True)
class Record:
    controller: str
    purposes: list[str]
    data_subjects: list[str]
    data_categories: list[str]
    recipients: list[Recipient]
    retention: dict[str, str]
    technical_measures: list[str]
    notes: list[str] = field(default_factory=list)


def build_record(settings: Settings) -> Record:
    return Record(
        controller=f"{CHECK}: the organisation that runs this Empfang (name, address, DPO)",
        purposes=_purposes(settings),
        data_subjects=[
            "customers who write to the business's WhatsApp number",
            "third parties named in contact cards customers share (initials and masked numbers)",
            "agents and administrators (chat user ids in the audit trail)",
        ],
        data_categories=_categories(settings),
        recipients=_recipients(settings),
        retention={
            "messages": days(settings.retention.messages),
            "media": days(settings.retention.media) + " (files in the chat, kept copies)",
            "contacts (inactive)": days(settings.retention.contacts),
            "closed_conversations": days(settings.retention.closed_conversations),
            "transfer ledger, audit trail": "kept as accountability records (pseudonyms only)",
        },
        technical_measures=_measures(settings),
        notes=[CHAT_REMOVAL],
    )


def _purposes(settings: Settings) -> list[str]:
    purposes = ["answering customers' WhatsApp messages in the team chat (customer service)"]
    if settings.cases:
        purposes.append("handing conversations over to case systems (tickets, archive)")
    if settings.alerts.webhook.url or settings.alerts.room:
        purposes.append("alerting on-call staff about unanswered conversations and faults")
    if settings.business_hours.out_of_hours_reply:
        purposes.append("an automatic reply outside business hours")
    if settings.privacy.first_contact_notice:
        purposes.append("informing customers on first contact (Art. 13)")
    return purposes


def _categories(settings: Settings) -> list[str]:
    categories = [
        "WhatsApp number or WhatsApp user id (stored once; agents see it masked)",
        "keyed pseudonym (K-…)",
        "WhatsApp profile name"
        + (" (shown to agents)" if settings.privacy.show_profile_name else " (not shown)"),
        "message content: texts, captions, media metadata, locations, contact cards",
        "agents' replies and their delivery status",
    ]
    if any(sink.include_phone for sink in settings.cases):
        categories.append("the number, sent in full to the case systems marked so below")
    return categories


def _recipients(settings: Settings) -> list[Recipient]:
    recipients = [_whatsapp(settings), _chat(settings)]
    recipients += [_sink(sink) for sink in settings.cases]
    if settings.alerts.webhook.url:
        name, location, abroad = _where(settings.alerts.webhook.url)
        recipients.append(
            Recipient(
                name=name,
                kind="paging service",
                role="processor",
                receives="alert summaries with pseudonyms, no content, no number",
                location=location,
                third_country=abroad,
            )
        )
    return recipients


def _whatsapp(settings: Settings) -> Recipient:
    if settings.whatsapp.provider == "sandbox":
        return Recipient(
            "WhatsApp sandbox (local)",
            "messaging",
            "none: on this machine",
            "test data",
            "here",
            third_country=False,
        )
    return Recipient(
        name="Meta Platforms Ireland (WhatsApp Business Platform, Cloud API)",
        kind="messaging",
        role="processor",
        receives="every message in both directions; Meta keeps them at most 30 days",
        location="EU and USA (Meta group)",
        third_country=True,
    )


def _chat(settings: Settings) -> Recipient:
    receives = "conversations with masked numbers and pseudonyms"
    if settings.chat.platform == "slack":
        return Recipient(
            f"Slack Technologies (Salesforce), channel {settings.slack.channel_id}",
            "chat platform",
            "processor",
            receives,
            "USA",
            third_country=True,
        )
    name, location, abroad = _where(settings.matrix.homeserver)
    return Recipient(
        f"Matrix homeserver {name}, room {settings.matrix.room_id}",
        "chat platform",
        f"{CHECK}: processor, or the controller itself when self-hosted",
        receives + (" (end-to-end encrypted)" if settings.matrix.encryption else ""),
        location,
        abroad,
    )


def _sink(sink: CaseSinkSettings) -> Recipient:
    receives = "pseudonym, message texts and media metadata" + (
        ", and the number in full" if sink.include_phone else ""
    )
    receives += f" (transferred: {sink.transfer.replace('_', ' ')})"
    if isinstance(sink, JsonlSinkSection):
        return Recipient(
            f"{sink.name} (JSONL file {sink.path})",
            "case system: jsonl",
            "none: a local file",
            receives,
            "here",
            third_country=False,
        )
    if isinstance(sink, EmailSinkSection):
        target = f"{sink.to_addr} via {sink.host}"
        name, location, abroad = _where(f"smtp://{sink.host}")
    else:
        assert isinstance(sink, WebhookSinkSection | ZammadSinkSection)
        target = sink.url
        name, location, abroad = _where(sink.url)
    return Recipient(
        f"{sink.name} ({target})",
        f"case system: {sink.type}",
        f"{CHECK}: processor or own system ({name})",
        receives,
        location,
        abroad,
    )


def _where(url: str) -> tuple[str, str, bool | None]:
    """(who runs the host, where, outside the EU/EEA) as far as the host name tells."""
    host = (urlsplit(url).hostname or url).lower()
    for domain, (operator, country) in _KNOWN_HOSTS.items():
        if host == domain or host.endswith("." + domain):
            return operator, country, True
    return host, f"{CHECK}: where {host} is hosted", None


def _measures(settings: Settings) -> list[str]:
    measures = [
        f"phone numbers masked everywhere agents look (country code and last"
        f" {settings.privacy.visible_digits} digits), also inside texts, file names and logs",
        "keyed pseudonyms: HMAC-SHA256 with a secret key kept apart from the database",
        "an allow-list of stored fields at intake; no contact sync",
        "TLS for every outbound connection except explicit loopback test targets",
        "WhatsApp webhooks accepted only with a valid X-Hub-Signature-256 (constant-time check)",
        "a hash-chained audit trail of privileged actions and a hash-chained transfer ledger",
        "a daily retention purge; legal holds (!hold) recorded in the audit trail",
        "a logging filter that masks numbers",
        "database, exports and case files readable by the bot's user only (0600)",
    ]
    if any(isinstance(sink, WebhookSinkSection) for sink in settings.cases):
        measures.append("case webhooks signed with HMAC-SHA256")
    if settings.chat.platform == "matrix" and settings.matrix.encryption:
        measures.append("end-to-end encryption of the Matrix room")
    return measures


def as_json(record: Record) -> str:
    return json.dumps(
        {"schema": "empfang.record-of-processing/1", **asdict(record)},
        ensure_ascii=False,
        indent=2,
    )


def as_markdown(record: Record) -> str:
    lines = ["# Record of processing activities (Art. 30 GDPR): Empfang", ""]
    lines += [f"**Controller:** {record.controller}", ""]
    lines += _list("Purposes", record.purposes)
    lines += _list("Data subjects", record.data_subjects)
    lines += _list("Categories of personal data", record.data_categories)
    lines += ["## Recipients", ""]
    lines += ["| recipient | type | role | receives | location | third country |"]
    lines += ["|---|---|---|---|---|---|"]
    for r in record.recipients:
        abroad = {True: "**yes**", False: "no", None: CHECK}[r.third_country]
        lines.append(f"| {r.name} | {r.kind} | {r.role} | {r.receives} | {r.location} | {abroad} |")
    lines.append("")
    lines += ["## Retention (a daily purge deletes what is due)", ""]
    lines += ["| data | kept for |", "|---|---|"]
    lines += [f"| {name} | {period} |" for name, period in record.retention.items()]
    lines.append("")
    lines += _list("Technical and organisational measures (Art. 32)", record.technical_measures)
    if record.notes:
        lines += _list("Notes", record.notes)
    return "\n".join(lines)


def _list(title: str, items: list[str]) -> list[str]:
    return [f"## {title}", "", *(f"- {item}" for item in items), ""]
