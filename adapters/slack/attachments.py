"""Agents' files in Slack: ``file_share`` messages → ``AgentFile``, and fetching them.

A file shared in a thread arrives as a ``message`` with subtype ``file_share`` and a
``files`` list; each file's ``url_private_download`` (else ``url_private``) is fetched with
the bot token as ``Authorization: Bearer`` (scope ``files:read``; slack.md §4). Without
the scope, or without the header, Slack answers with its HTML login page and status 200,
so a download that is HTML when the file is not is refused instead of sent to a customer.

The token goes only to Slack's own hosts (``*.slack.com``, or the configured ``api_base``'s
host for a test double): a ``url_private`` is written by Slack, but a bot token sent to
wherever an event points would be one forged event away from leaking. A redirect to
another host loses the header (httpx drops it when the origin changes).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import httpx

from bot.errors import PlatformError
from bot.media.limits import base_type
from bot.media.spool import Spool, SpooledFile
from bot.ports import AgentFile

SLACK_FILE_HOST_SUFFIX = ".slack.com"
UNAVAILABLE_MODES = frozenset({"tombstone", "hidden_by_limit", "external"})
"""Deleted files, files beyond the free plan's limit, and links to files kept elsewhere
(Google Drive …): Slack has no bytes of them to hand over. They are still reported (without
a URL), so the relay explains in the thread that they did not go."""
TIMEOUT = httpx.Timeout(30.0, read=60.0)
STUB = "slack-file:"


def agent_files(message: dict[str, Any]) -> tuple[AgentFile, ...]:
    """The files of a ``file_share`` message, in the order shown; ``ref`` is empty for a
    file Slack cannot hand over, and ``slack-file:<id>`` for a stub to complete with
    ``files.info`` (:func:`stub_id`)."""
    entries = message.get("files")
    return tuple(
        agent_file(entry)
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    )


def agent_file(entry: dict[str, Any]) -> AgentFile:
    """One Slack file object (from an event, or ``files.info``) as an ``AgentFile``."""
    url = entry.get("url_private_download") or entry.get("url_private")
    file_id = entry.get("id")
    if entry.get("mode") in UNAVAILABLE_MODES:
        url = ""
    elif not isinstance(url, str) or not url:
        url = f"{STUB}{file_id}" if isinstance(file_id, str) and file_id else ""
    name, mime, size = entry.get("name"), entry.get("mimetype"), entry.get("size")
    return AgentFile(
        kind="file",
        name=name if isinstance(name, str) and name else "file",
        ref=url,
        mime_type=mime if isinstance(mime, str) and mime else None,
        size=size if type(size) is int else None,
    )


def stub_id(file: AgentFile) -> str | None:
    """The file id of a stub the event carried without its URL (slack.md §4: "the event may
    only carry a file stub; call ``files.info``")."""
    return file.ref.removeprefix(STUB) if file.ref.startswith(STUB) else None


def token_may_go_to(url: str, api_base: str) -> bool:
    """Whether the bot token may be sent with a request to ``url``."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if host == "slack.com" or host.endswith(SLACK_FILE_HOST_SUFFIX):
        return parsed.scheme == "https"
    base = urlparse(api_base) if api_base else None
    return base is not None and (parsed.scheme, parsed.netloc) == (base.scheme, base.netloc)


async def fetch(
    token: str, api_base: str, file: AgentFile, spool: Spool, *, cap: int
) -> SpooledFile:
    """Stream ``file`` from Slack into ``spool``."""
    if not file.ref:
        raise PlatformError("slack has no content for this file", retryable=False)
    if not token_may_go_to(file.ref, api_base):
        raise PlatformError("slack file URL is not on a Slack host", retryable=False)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True) as client,
            client.stream("GET", file.ref, headers=headers) as response,
        ):
            _check(response, file)
            return await spool.stream_to_file(response, cap, mime=file.mime_type or "")
    except httpx.HTTPError as exc:
        raise PlatformError(
            f"slack file download failed ({type(exc).__name__})", retryable=True
        ) from exc


def _check(response: httpx.Response, file: AgentFile) -> None:
    status = response.status_code
    if status == 429 or status >= 500:
        raise PlatformError(f"slack file download answered {status}", retryable=True)
    if status >= 300:
        raise PlatformError(f"slack file download answered {status}", retryable=False)
    served = base_type(response.headers.get("content-type", ""))
    if served == "text/html" and base_type(file.mime_type or "") != "text/html":
        raise PlatformError(
            "slack answered a file download with its login page: the bot token needs the "
            "files:read scope",
            retryable=False,
        )
