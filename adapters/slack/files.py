"""Customers' files into a Slack thread: the files v2 upload (slack.md §4).

``files.getUploadURLExternal`` names the file and its length and answers an upload URL
and a file id; the bytes go to that URL as the body of a POST without the bot token;
``files.completeUploadExternal`` with ``channel_id`` and ``thread_ts`` shares the file into
the thread. slack_sdk's ``files_upload_v2`` reads the whole file into memory, so the three
calls are made here, and the body streams from the spool file.

A file upload carries no message metadata, so the post ledger cannot find it after a
crash. Instead the file id is noted in the job (``UploadJournal``) before the bytes go
out; a retried job asks ``files.info`` for it. A completed upload is found there (and not
shared again); one that was never completed is unknown to Slack (``file_not_found``) and
is uploaded anew.

Removing a file post (retention, erasure, the customer's delete) deletes the file with
``files.delete``, not only its share message: ``chat.delete`` of the share would leave the
file itself reachable by its ``url_private``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import OUTAGE_STATUSES, PlatformError
from bot.ids import ChatMessageId, ThreadId
from bot.ports import ChatFile, UploadJournal

Api = Callable[[str, Awaitable[Any]], Awaitable[dict[str, Any]]]
"""``SlackPlatform._api``: a Web API call with Slack's errors as ``PlatformError``."""

UPLOAD_TIMEOUT = httpx.Timeout(30.0, read=120.0)
CHUNK_BYTES = 64 * 1024
FILE_GONE = frozenset({"file_not_found", "file_deleted"})


class ThreadUploads:
    """Uploads into threads; each upload names the channel of its thread."""

    def __init__(self, client: AsyncWebClient, api: Api) -> None:
        self._client = client
        self._api = api

    async def post(
        self, channel: str, thread_id: ThreadId, file: ChatFile, journal: UploadJournal
    ) -> ChatMessageId:
        if journal.started is not None and await self._completed(journal.started):
            return ChatMessageId(journal.started)
        ticket = await self._api(
            "files.getUploadURLExternal",
            self._client.files_getUploadURLExternal(filename=file.name, length=file.size),
        )
        file_id, upload_url = str(ticket.get("file_id")), str(ticket.get("upload_url"))
        await journal.record(file_id)
        await self._send_bytes(upload_url, file)
        done = await self._api(
            "files.completeUploadExternal",
            self._client.files_completeUploadExternal(
                files=[{"id": file_id, "title": file.name}],
                channel_id=channel,
                thread_ts=thread_id,
            ),
        )
        if not done.get("files"):
            raise PlatformError("Slack files.completeUploadExternal answered without files")
        return ChatMessageId(file_id)

    async def delete(self, file_id: str) -> bool:
        """``files.delete`` (bot token, ``files:write``): the file goes, and with it what
        its share showed in the thread. False when Slack refuses (``cant_delete_file``: not
        the bot's upload); a file gone already counts as deleted."""
        try:
            await self._api("files.delete", self._client.files_delete(file=file_id))
        except PlatformError as error:
            if error.code == "cant_delete_file":
                return False
            if error.code not in FILE_GONE:
                raise
        return True

    async def _completed(self, file_id: str) -> bool:
        """Whether an earlier attempt completed the upload, i.e. shared it into the thread
        it was completed for."""
        try:
            await self._api("files.info", self._client.files_info(file=file_id))
        except PlatformError as error:
            if error.code == "file_not_found":
                return False
            raise
        return True

    async def _send_bytes(self, url: str, file: ChatFile) -> None:
        """POST the file as the raw body, streamed; Slack answers ``200 OK - <length>``."""

        async def chunks() -> Any:
            with file.path.open("rb") as data:
                while chunk := data.read(CHUNK_BYTES):
                    yield chunk

        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(file.size)}
        try:
            async with httpx.AsyncClient(timeout=UPLOAD_TIMEOUT) as http:
                response = await http.post(url, content=chunks(), headers=headers)
        except httpx.TransportError as exc:
            raise PlatformError(
                f"Slack file upload failed: Slack unreachable ({type(exc).__name__})",
                outage=True,
            ) from exc
        except httpx.HTTPError as exc:
            raise PlatformError(f"Slack file upload failed: {type(exc).__name__}") from exc
        if response.status_code != 200:
            status = response.status_code
            raise PlatformError(
                f"Slack file upload failed: HTTP {status}",
                retryable=status >= 500 or status == 429,
                code=status,
                outage=status in OUTAGE_STATUSES,
            )
