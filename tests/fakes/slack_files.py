"""Files in the fake Slack (``tests.fakes.slack``): the files v2 upload and ``url_private``.

As slack.md §4 describes ``files_upload_v2`` on the wire:

1. ``files.getUploadURLExternal`` (``filename``, ``length`` > 0) answers ``upload_url`` and
   ``file_id``; ``missing_argument`` without a length.
2. ``POST <upload_url>`` with the bytes as the body and no ``Authorization`` header;
   ``200 text/plain`` ``OK - <length>``. A body of another length than announced is refused.
3. ``files.completeUploadExternal`` (``files`` a JSON string ``[{"id", "title"}]``,
   ``channel_id``, ``thread_ts``, ``initial_comment``) shares the files: the bot's message
   with ``files`` appears in the thread, and the answer carries ``files`` (with ``shares``
   still empty, as Slack's own log shows). ``file_not_found`` for an id never uploaded.

``files.info`` shows a completed file with its ``shares``; an upload never completed is
``file_not_found``. ``files.delete`` (docs.slack.dev: errors ``file_not_found``,
``file_deleted``, ``cant_delete_file``) deletes the bytes; in the messages that shared it
the file becomes a ``tombstone`` file object, and a share with nothing else left (no text,
no other file) goes like a ``chat.delete`` [unverified: how Slack shows such a share].
``url_private`` / ``url_private_download`` answer the bytes only with the bot token as
``Authorization: Bearer``, else Slack's HTML login page with status 200.
"""

from __future__ import annotations

import json
import mimetypes
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.slack_wire import JSON, ApiError

if TYPE_CHECKING:
    from tests.fakes.slack import FakeSlack

LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>"


@dataclass
class StoredFile:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    content: bytes | None = None
    title: str = ""
    created: int = field(default_factory=lambda: int(time.time()))
    completed: bool = False
    deleted: bool = False
    shares: dict[str, list[JSON]] = field(default_factory=dict)
    """Channel id → where the file was shared (``ts``, ``thread_ts``)."""


class FakeSlackFiles:
    """The files part of one fake workspace; ``slack`` is the workspace it belongs to."""

    def __init__(self, slack: FakeSlack, *, token: str, team: str, bot_user: str) -> None:
        self._slack = slack
        self._token = token
        self._team = team
        self._bot_user = bot_user
        self.files: dict[str, StoredFile] = {}
        self.uploads: list[tuple[str, dict[str, str]]] = []
        """Every raw upload: file id and the request headers (to check none carries a token)."""

    # -- wiring into the fake ------------------------------------------------------------------

    def methods(self) -> dict[str, Any]:
        return {
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete,
            "files.info": self._info,
            "files.delete": self._delete_file,
        }

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_get("/files-pri/{team_file}/{name}", self._download)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._download)

    # -- inspection ----------------------------------------------------------------------------

    def shared(self) -> list[StoredFile]:
        """Completed files in the order they were uploaded."""
        return [f for f in self.files.values() if f.completed]

    def in_thread(self, thread_ts: str, channel_id: str | None = None) -> list[StoredFile]:
        """Files shared into the thread (of ``channel_id``; any channel when None: a ``ts``
        is unique only within its channel) and not deleted."""
        return [
            f
            for f in self.shared()
            if not f.deleted
            and any(
                share.get("thread_ts") == thread_ts
                for channel, shares in f.shares.items()
                if channel_id in (None, channel)
                for share in shares
            )
        ]

    # -- Web API -------------------------------------------------------------------------------

    def _get_upload_url(self, args: JSON) -> JSON:
        filename = str(args.get("filename") or "")
        length = str(args.get("length") or "")
        if not filename or not length.isdigit() or int(length) == 0:
            raise ApiError("missing_argument")
        file_id = "F" + secrets.token_hex(5).upper()
        alt = args.get("alt_txt")
        self.files[file_id] = StoredFile(
            file_id, filename, int(length), alt_txt=str(alt) if alt else None
        )
        return {
            "upload_url": f"{self._slack.base_url}/upload/v1/{file_id}",
            "file_id": file_id,
        }

    async def _upload(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        body = await request.read()
        self.uploads.append((request.match_info["file_id"], dict(request.headers)))
        if stored is None or stored.completed:
            return web.Response(status=404, text="Not Found")
        if len(body) != stored.length:
            return web.Response(status=400, text="length does not match")
        stored.content = body
        return web.Response(text=f"OK - {len(body)}", content_type="text/plain")

    def _complete(self, args: JSON) -> JSON:
        try:
            entries = json.loads(str(args.get("files") or ""))
        except ValueError as exc:
            raise ApiError("invalid_arguments") from exc
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments")
        chosen = []
        for entry in entries:
            stored = self.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if stored is None or stored.content is None or stored.completed:
                raise ApiError("file_not_found")
            stored.title = str(entry.get("title") or stored.filename)
            chosen.append(stored)
        answer = [self._view(stored) for stored in chosen]  # shared asynchronously: no shares
        channel_id = args.get("channel_id")
        for stored in chosen:
            stored.completed = True
        if channel_id:
            self._share(str(channel_id), args.get("thread_ts"), args.get("initial_comment"), chosen)
        return {"files": answer}

    def _share(
        self, channel_id: str, thread_ts: Any, comment: Any, chosen: list[StoredFile]
    ) -> None:
        slack = self._slack
        channel = slack._channel({"channel": channel_id})
        message = slack._bot_message(channel, str(comment or ""), None, None)
        message["upload"] = True
        message["display_as_bot"] = False
        parent = slack._find_or_none(channel, thread_ts) if thread_ts else None
        if parent is not None:
            slack._attach_reply(parent, message)
        share = {"ts": message["ts"], "channel_name": channel.name}
        if parent is not None:
            share["thread_ts"] = parent["ts"]
        for stored in chosen:
            stored.shares.setdefault(channel_id, []).append(share)
        message["files"] = [self._view(stored) for stored in chosen]
        channel.messages.append(message)
        slack._emit(channel, slack._event_view(channel, message))

    def _info(self, args: JSON) -> JSON:
        stored = self.files.get(str(args.get("file") or ""))
        if stored is None or not stored.completed:
            raise ApiError("file_not_found")
        if stored.deleted:
            raise ApiError("file_deleted")
        return {"file": self._view(stored)}

    def _delete_file(self, args: JSON) -> JSON:
        """Every file in the fake is the bot's upload, so ``cant_delete_file`` never
        applies here."""
        file_id = str(args.get("file") or "")
        stored = self.files.get(file_id)
        if stored is None or not stored.completed:
            raise ApiError("file_not_found")
        if stored.deleted:
            raise ApiError("file_deleted")
        stored.deleted, stored.content = True, None
        slack = self._slack
        for channel_id, shares in stored.shares.items():
            channel = slack.channels[channel_id]
            for share in shares:
                message = slack._find_or_none(channel, share["ts"])
                if message is None:
                    continue
                message["files"] = [
                    {"id": file_id, "mode": "tombstone"} if shown.get("id") == file_id else shown
                    for shown in message.get("files") or []
                ]
                if not message.get("text") and all(
                    shown.get("mode") == "tombstone" for shown in message["files"]
                ):
                    slack._delete({"channel": channel_id, "ts": share["ts"]})
        return {}

    def _view(self, stored: StoredFile) -> JSON:
        base = f"{self._slack.base_url}/files-pri/{self._team}-{stored.file_id}"
        private = {
            channel: list(shares)
            for channel, shares in stored.shares.items()
            if self._slack.channels[channel].private
        }
        public = {c: list(s) for c, s in stored.shares.items() if c not in private}
        shares: JSON = {}
        if public:
            shares["public"] = public
        if private:
            shares["private"] = private
        return {
            "id": stored.file_id,
            "created": stored.created,
            "timestamp": stored.created,
            "name": stored.filename,
            "title": stored.title or stored.filename,
            "mimetype": _mimetype(stored),
            "filetype": stored.filename.rsplit(".", 1)[-1] if "." in stored.filename else "",
            "user": self._bot_user,
            "mode": "hosted",
            "is_external": False,
            "size": len(stored.content or b""),
            "url_private": f"{base}/{stored.filename}",
            "url_private_download": f"{base}/download/{stored.filename}",
            "shares": shares,
            "channels": sorted(c for c in stored.shares if c not in private),
            "groups": sorted(private),
        }

    async def _download(self, request: web.Request) -> web.Response:
        team_file = request.match_info["team_file"]
        stored = self.files.get(team_file.rsplit("-", 1)[-1])
        auth = request.headers.get("Authorization", "")
        if auth != f"Bearer {self._token}":
            return web.Response(text=LOGIN_PAGE, content_type="text/html")
        if stored is None or stored.content is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=stored.content, content_type=_mimetype(stored))


def _mimetype(stored: StoredFile) -> str:
    """Slack sniffs the type from name and content; the fake goes by the name."""
    guessed, _ = mimetypes.guess_type(stored.filename)
    return guessed or "application/octet-stream"
