"""A customer's file in the thread: fetched from WhatsApp, checked, stripped, uploaded.

The customer's line ("📷 Image «Scan.pdf»: caption", masked) is posted first, by the
``relay.inbound`` job; that job then enqueues a ``relay.media`` job in a queue of the
conversation's own (``job_catalog.media_order_key``), so files appear in the order sent and a
slow download never holds up the customer's next text.

The job looks the media up (or takes the ``url`` a newer webhook carried), streams it into
the private spool with the cap of its type, checks the sha256, type and size, writes an
image anew without metadata, and uploads the result with a masked file name. A file that
may not be shown, and one that still cannot be fetched when the worker would give up,
becomes a notice in the thread saying what arrived and why it is not shown; nothing is
dropped silently and nothing is dead-lettered. The file's post is recorded
(``bot.store.media_posts``) so that whatever removes the customer's line removes it too;
after a crash between the upload and that record, the retried job finds the same post
(Matrix: the event's transaction id; Slack: the journal) and records it then. Temporary
files go when the job ends; with
``[media] keep_days`` a stripped copy is kept that long (``bot.media.keep``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from bot import render
from bot.config import PrivacySection
from bot.domain import Media, MessageKind
from bot.errors import (
    ImageUndecodable,
    MediaRefused,
    MediaTooLarge,
    MediaTypeRefused,
    ProviderError,
)
from bot.ids import ThreadId
from bot.job_catalog import RELAY_MEDIA, MediaJob, enqueue
from bot.jobs import RetryPolicy
from bot.media.keep import MediaKeeper
from bot.media.limits import IMAGE_TYPES, MediaLimits, base_type, human_size
from bot.media.names import mask_filename
from bot.media.spool import Spool, SpooledFile
from bot.media.strip import strip_in_background
from bot.ports import ChatFile, ChatPlatform
from bot.store import Store, Tx
from bot.store.jobs import Job
from bot.store.messages import MessageRow
from bot.texts import Texts

log = logging.getLogger("empfang.media")

MEDIA_KINDS = frozenset(
    kind.value
    for kind in (
        MessageKind.IMAGE,
        MessageKind.VIDEO,
        MessageKind.AUDIO,
        MessageKind.DOCUMENT,
        MessageKind.STICKER,
    )
)
"""Messages whose file is shown in the thread. Contact cards are not among them: they stay
masked text and are never uploaded as vCards."""

_STEMS = {
    MessageKind.IMAGE: "photo",
    MessageKind.VIDEO: "video",
    MessageKind.AUDIO: "audio",
    MessageKind.DOCUMENT: "document",
    MessageKind.STICKER: "sticker",
}
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "video/3gpp": ".3gp",
    "text/plain": ".txt",
}


@dataclass(frozen=True)
class MediaInfo:
    """Where to download a customer's media and what WhatsApp says it is. ``size`` is
    known from a lookup only (``file_size``), not from a webhook's ``url``."""

    url: str
    mime_type: str
    sha256: str | None = None
    size: int | None = None


class CustomerMediaSource(Protocol):
    """WhatsApp's side (``adapters.whatsapp.media.CloudMediaIn``)."""

    async def lookup(self, media_id: str) -> MediaInfo:
        """``GET /{media-id}``: a fresh URL (valid five minutes) and the facts."""
        ...

    async def download(self, info: MediaInfo, spool: Spool, *, cap: int) -> SpooledFile:
        """Stream the media into the spool with the Bearer token, at most ``cap`` bytes."""
        ...


class DamagedDownload(ProviderError):
    """The bytes do not have the sha256 WhatsApp named: cut short or altered on the way."""


def default_name(kind: MessageKind, mime: str, *, voice: bool = False) -> str:
    """A name for media WhatsApp sends without one (all but documents)."""
    stem = "voice-note" if voice else _STEMS.get(kind, "file")
    return stem + extension_for(mime)


def shown_name(kind: MessageKind, media: Media, masker: render.Masker) -> str:
    """The file's name as agents and case systems see it: masked, else made up."""
    declared = base_type(media.mime_type or "") or "application/octet-stream"
    return mask_filename(media.filename or default_name(kind, declared, voice=media.voice), masker)


def extension_for(mime: str) -> str:
    bare = base_type(mime)
    return _EXTENSIONS.get(bare) or mimetypes.guess_extension(bare) or ""


def _renamed(name: str, mime: str) -> str:
    """``name`` with the extension of ``mime`` (an image that was really a PNG)."""
    stem, dot, _ = name.rpartition(".")
    return (stem if dot else name) + extension_for(mime)


class JobJournal:
    """:class:`bot.ports.UploadJournal` kept in the media job's own payload."""

    def __init__(self, store: Store, job: Job, payload: MediaJob) -> None:
        self._store = store
        self._job = job
        self._payload = payload

    @property
    def started(self) -> str | None:
        return self._payload.upload

    async def record(self, note: str) -> None:
        self._payload = self._payload.model_copy(update={"upload": note})
        async with self._store.transaction() as tx:
            await tx.jobs.set_payload(self._job.id, self._payload.model_dump_json())


class CustomerMedia:
    """The ``relay.media`` job: one customer file from WhatsApp into the thread."""

    def __init__(
        self,
        store: Store,
        chat: ChatPlatform,
        source: CustomerMediaSource,
        *,
        limits: MediaLimits,
        spool: Spool,
        texts: Texts,
        privacy: PrivacySection,
        retry: RetryPolicy,
        keeper: MediaKeeper | None = None,
    ) -> None:
        self._store = store
        self._chat = chat
        self._source = source
        self._limits = limits
        self._spool = spool
        self._texts = texts
        self._privacy = privacy
        self._retry = retry
        self._keeper = keeper

    async def clean_up(self) -> None:
        """At start, before any worker runs: temporary files a killed process left (a
        download cut off, a stripped image not yet uploaded), and kept copies past their
        time. Agents' files (``bot.media.outbound``) share the spool and are cleaned too."""
        removed = await asyncio.to_thread(self._spool.clean)
        if removed:
            log.info("media spool: removed %d temporary files left by an earlier run", removed)
        if self._keeper is not None:
            await asyncio.to_thread(self._keeper.purge)

    async def enqueue(self, tx: Tx, posted: Iterable[MessageRow], number_id: str) -> None:
        """After their lines were posted: a media job for each message with a file, in the
        order of the conversation's business number ``number_id``."""
        for row in posted:
            if row.kind in MEDIA_KINDS:
                job = MediaJob(message_id=row.id, contact_id=row.contact_id, number_id=number_id)
                await enqueue(tx, RELAY_MEDIA, job)

    def _key(self, name: str) -> str:
        return f"{self._store.instance_id}:{name}"

    async def relay(self, job: Job, payload: MediaJob) -> None:
        async with self._store.transaction() as tx:
            row = await tx.messages.get(payload.message_id)
            contact = await tx.contacts.get(payload.contact_id)
            conversation_id = row.conversation_id if row is not None else None
            conversation = await tx.conversations.get(conversation_id) if conversation_id else None
        if row is None or row.body is None or contact is None or conversation is None:
            return  # purged or erased meanwhile: nothing to show any more
        thread_id = conversation.thread_id
        message = row.inbound(contact.sender)
        if thread_id is None or message.media is None:
            return
        media = message.media
        masker = render.Masker.for_contact(contact, self._privacy)
        declared = base_type(media.mime_type or "") or "application/octet-stream"
        name = shown_name(message.kind, media, masker)
        with contextlib.ExitStack() as temporary:
            try:
                file = await self.prepare(message.kind, media, name, temporary)
            except MediaRefused as refused:
                await self._not_shown(thread_id, row.id, name, refused)
                return
            except ProviderError as error:
                if not self._retry.gives_up(job, error, self._store.clock.now()):
                    raise
                log.warning("media %s not fetched, giving up: %s", row.id, type(error).__name__)
                reason = self._texts.media_unavailable
                await self._post_notice(thread_id, row.id, name, declared, None, reason)
                return
            journal = JobJournal(self._store, job, payload)
            post = await self._chat.post_file(
                thread_id, file, key=self._key(f"media-{row.id}"), journal=journal
            )
            async with self._store.transaction() as tx:
                now = tx.clock.now()
                await tx.media_posts.record(row.id, post, journal.started, posted_at=now)
            if self._keeper is not None:
                await asyncio.to_thread(self._keeper.keep, file.path, row.id, file.name)

    async def prepare(
        self,
        kind: MessageKind,
        media: Media,
        name: str,
        temporary: contextlib.ExitStack,
    ) -> ChatFile:
        """Fetch, check and strip one file into the spool (gone when ``temporary`` closes);
        case transfers with ``include_media`` take files the same way
        (``bot.media.case_files``)."""
        info, spooled = await self._fetch(media)
        temporary.callback(spooled.discard)
        mime = base_type(info.mime_type)
        if spooled.size == 0:  # WhatsApp carries no empty files: the download failed
            raise DamagedDownload("media download came back empty", retryable=True)
        for expected in {media.sha256, info.sha256} - {None}:
            if expected and not spooled.matches(expected):
                raise DamagedDownload(
                    "media download damaged: its sha256 differs from WhatsApp's", retryable=True
                )
        self._limits.check(mime, spooled.size)
        if mime not in IMAGE_TYPES:
            return ChatFile(
                path=spooled.path,
                name=name,
                mime_type=mime,
                size=spooled.size,
                kind=_chat_kind(kind, mime, voice=media.voice),
            )
        stripped = self._spool.new_path()
        temporary.callback(stripped.unlink, missing_ok=True)
        try:
            facts = await strip_in_background(spooled.path, stripped, mime)
        except ImageUndecodable as error:
            error.size = spooled.size
            raise
        spooled.discard()
        return ChatFile(
            path=stripped,
            name=name if facts.mime == mime else _renamed(name, facts.mime),
            mime_type=facts.mime,
            size=stripped.stat().st_size,
            kind="image",
            width=facts.width,
            height=facts.height,
        )

    async def _fetch(self, media: Media) -> tuple[MediaInfo, SpooledFile]:
        """The webhook's ``url`` first (it saves the lookup); if it fails (expired after
        five minutes, e.g. after a restart), a fresh one from ``GET /{media-id}``. Type and
        a known size are checked before a byte is downloaded."""
        declared = media.mime_type or "application/octet-stream"
        if media.url:
            info = MediaInfo(url=media.url, mime_type=declared, sha256=media.sha256)
            cap = self._checked_cap(info)
            try:
                return info, await self._source.download(info, self._spool, cap=cap)
            except ProviderError as error:
                log.info("media url from the webhook failed (%s); looking it up", error.code)
        info = await self._source.lookup(media.media_id)
        if not info.mime_type:
            info = MediaInfo(info.url, declared, info.sha256, info.size)
        cap = self._checked_cap(info)
        return info, await self._source.download(info, self._spool, cap=cap)

    def _checked_cap(self, info: MediaInfo) -> int:
        self._limits.check(info.mime_type, info.size or 0)
        return self._limits.limit_for(info.mime_type)

    async def _not_shown(
        self, thread_id: ThreadId, message_id: int, name: str, refused: MediaRefused
    ) -> None:
        texts = self._texts
        if isinstance(refused, MediaTooLarge):
            reason = texts.media_too_large.format(limit=human_size(refused.limit))
        elif isinstance(refused, MediaTypeRefused):
            reason = texts.media_type_refused
        else:
            reason = texts.media_unreadable
        log.info("media %s not shown: %s", message_id, type(refused).__name__)
        await self._post_notice(thread_id, message_id, name, refused.mime, refused.size, reason)

    async def _post_notice(
        self,
        thread_id: ThreadId,
        message_id: int,
        name: str,
        mime: str,
        size: int | None,
        reason: str,
    ) -> None:
        texts = self._texts
        notice = texts.media_not_shown.format(
            name=name,
            mime=mime,
            size=human_size(size) if size is not None else texts.media_size_unknown,
            reason=reason,
        )
        await self._chat.post(thread_id, notice, key=self._key(f"media-refused-{message_id}"))


def _chat_kind(
    kind: MessageKind, mime: str, *, voice: bool
) -> Literal["image", "video", "audio", "voice", "file"]:
    """How the chat shows a file that is no image: by its type, not by what WhatsApp
    called the message (a document that is an MP4 plays as a video)."""
    major = mime.split("/", 1)[0]
    if major == "audio":
        return "voice" if voice and kind is MessageKind.AUDIO else "audio"
    if major == "video":
        return "video"
    return "file"
