"""E-mail sink: one mail thread per conversation over SMTP (aiosmtplib).

Helpdesks that take mail (Znuny/OTRS, Jira Service Management, Freshdesk, Zendesk, Zammad)
put a mail into an existing ticket when its ``In-Reply-To``/``References`` name an earlier
mail of that ticket, so the first transfer starts a thread and every later one replies to
the previous mail. Message-IDs are derived from the transfer id: a retried send carries the
same Message-ID, which receivers treat as the same mail. ``Auto-Submitted`` keeps helpdesks
from answering the bot's address with auto-replies. With ``include_media`` the customer's
files go along as attachments, stripped as in the thread (the mail server's size limit
applies: a refused mail is retried and then dead-lettered like any other).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from adapters.cases.base import SendingSink
from bot.cases.document import as_text, title
from bot.cases.model import CaseRef, Transfer
from bot.config.cases import EmailSinkSection
from bot.errors import CaseSinkError
from bot.texts import Texts

REFERENCES_KEPT = 20
"""References lists the thread's first mail and the latest ones; long threads are cut."""


def smtp_error(error: aiosmtplib.SMTPException, sink: str) -> CaseSinkError:
    """4xx replies and connection trouble are temporary; 5xx, auth and missing features
    (e.g. no STARTTLS) need an admin."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in error.recipients]
        temporary = bool(codes) and all(400 <= code < 500 for code in codes)
        return CaseSinkError(
            f"e-mail {sink!r}: recipient refused ({codes})",
            retryable=temporary,
            code=min(codes, default=None),
        )
    if isinstance(error, aiosmtplib.SMTPResponseException):
        temporary = 400 <= error.code < 500
        return CaseSinkError(
            f"e-mail {sink!r}: server answered {error.code}", retryable=temporary, code=error.code
        )
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return CaseSinkError(f"e-mail {sink!r}: {error}", retryable=False)
    connection = isinstance(error, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPTimeoutError)
    return CaseSinkError(
        f"e-mail {sink!r}: {type(error).__name__}", retryable=True, outage=connection
    )


class EmailSink(SendingSink):
    def __init__(self, settings: EmailSinkSection, *, texts: Texts) -> None:
        self.settings = settings
        self._texts = texts
        self._domain = settings.from_addr.rpartition("@")[2]

    def _message(self, ref: CaseRef, transfer: Transfer) -> EmailMessage:
        """The mail for ``transfer``, replying to the thread in ``ref``."""
        message = EmailMessage()
        subject = title(transfer, self._texts)
        if ref.case_id:
            subject = f"[{ref.case_id}] {subject}"
        message["Subject"] = f"Re: {subject}" if ref.thread else subject
        message["From"] = self.settings.from_addr
        message["To"] = self.settings.to_addr
        message["Date"] = format_datetime(datetime.fromtimestamp(transfer.occurred_at, UTC))
        message["Message-ID"] = self._message_id(transfer)
        if ref.thread:
            message["In-Reply-To"] = ref.thread[-1]
            kept = ref.thread[:1] + ref.thread[1:][-(REFERENCES_KEPT - 1) :]
            message["References"] = " ".join(kept)
        message["Auto-Submitted"] = "auto-generated"
        message["X-Empfang-Event"] = transfer.event
        message.set_content(as_text(transfer, self._texts))
        for file in transfer.files:  # include_media: the customer's files, stripped
            major, _, minor = file.mime_type.partition("/")
            message.add_attachment(
                file.read(), maintype=major, subtype=minor or "octet-stream", filename=file.name
            )
        return message

    def _message_id(self, transfer: Transfer) -> str:
        return f"<{transfer.transfer_id}.{transfer.conversation_id}@{self._domain}>"

    async def send(self, ref: CaseRef, transfer: Transfer) -> CaseRef:
        """One SMTP session per transfer: nothing is held open between transfers."""
        settings = self.settings
        try:
            message = await asyncio.to_thread(self._message, ref, transfer)  # reads files
            await aiosmtplib.send(
                message,
                hostname=settings.host,
                port=settings.port,
                username=settings.username or None,
                password=settings.password.get_secret_value() or None,
                use_tls=settings.security == "tls",
                start_tls=settings.security == "starttls",
                timeout=settings.timeout_seconds,
            )
        except aiosmtplib.SMTPException as error:
            raise smtp_error(error, settings.name) from error
        except OSError as error:
            raise CaseSinkError(
                f"e-mail {settings.name!r}: {type(error).__name__}", retryable=True, outage=True
            ) from error
        return ref.model_copy(update={"thread": (*ref.thread, self._message_id(transfer))})
