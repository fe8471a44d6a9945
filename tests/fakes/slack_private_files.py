"""An agent sharing a file in a thread of the fake Slack (``tests.fakes.slack``).

What Slack sends when a person drags a file into a thread (slack.md §4): a ``message`` with
subtype ``file_share``, the comment as ``text``, and ``files`` holding the file object
(``url_private``, ``url_private_download``, ``mimetype``, ``size``, ``mode: hosted``) owned
by that person. The bytes are served by ``tests.fakes.slack_files`` at ``url_private`` to
the bot token only (otherwise Slack's login page), as the bot must fetch them.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tests.fakes.slack_files import StoredFile
from tests.fakes.slack_wire import JSON

if TYPE_CHECKING:
    from tests.fakes.slack import FakeSlack


async def agent_shares_file(
    slack: FakeSlack,
    thread_ts: str,
    user: str,
    *,
    filename: str,
    content: bytes,
    comment: str = "",
    mode: str = "hosted",
    more: Sequence[tuple[str, bytes]] = (),
    stub: bool = False,
    channel_id: str | None = None,
) -> str:
    """``user`` shares ``content`` as ``filename`` (and the ``more`` files after it) in the
    thread with ``comment``; returns the message's ts once the app acknowledged the event.
    ``mode`` other than ``hosted`` (``tombstone``, ``external``) makes the first file one
    Slack holds no bytes of. ``stub`` sends only the files' ids and modes, as events may
    (slack.md §4): the app must ask ``files.info``. ``channel_id``: the thread's channel
    (default the fake's first)."""
    channel, message = slack._user_message(user, comment, thread_ts, channel_id)
    views = []
    for index, (name, data) in enumerate([(filename, content), *more]):
        stored = StoredFile(
            "F" + secrets.token_hex(5).upper(),
            name,
            len(data),
            content=data,
            title=name,
            completed=True,
        )
        stored.shares[channel.channel_id] = [{"ts": message["ts"], "thread_ts": thread_ts}]
        slack.files.files[stored.file_id] = stored
        view: JSON = slack.files._view(stored)
        view["user"] = user
        if mode != "hosted" and index == 0:
            view["mode"] = mode
            for key in ("url_private", "url_private_download"):
                view.pop(key)
        views.append({"id": view["id"], "mode": view["mode"]} if stub else view)
    message.update(subtype="file_share", files=views, upload=False, display_as_bot=False)
    if not comment:
        message.pop("blocks", None)
    delivery = slack._emit(channel, slack._event_view(channel, message))
    if delivery is not None:
        await delivery.wait(slack._patience())
    return str(message["ts"])
