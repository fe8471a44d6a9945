"""Customers' files into a Matrix thread: upload to the content repository, then an
``m.image`` / ``m.video`` / ``m.audio`` / ``m.file`` event in the thread.

The upload is the client's (``MatrixApi.upload``): in an encrypted room the file is
encrypted before it leaves (``adapters.matrix.e2ee``) and the event carries ``file`` (the
ciphertext's ``mxc://`` URI with key, IV and hash) instead of ``url``: a plain ``url`` there
would hand the picture to the homeserver in the clear. Either way the file is read in
chunks, so nothing is held in memory whole. Voice notes carry the MSC3245 voice flag, so
clients show a voice message player rather than an audio file.
"""

from __future__ import annotations

from typing import Any

from adapters.matrix import content
from bot.ids import ThreadId
from bot.ports import ChatFile

MSGTYPES = {
    "image": "m.image",
    "video": "m.video",
    "audio": "m.audio",
    "voice": "m.audio",
    "file": "m.file",
}
VOICE_FLAGS: dict[str, Any] = {"org.matrix.msc3245.voice": {}, "org.matrix.msc1767.audio": {}}
"""How Element and other clients recognise a recorded voice message (MSC3245, MSC1767)."""


def file_content(thread_id: ThreadId, file: ChatFile, uri: str, keys: Any) -> content.Content:
    """The thread event showing the file. ``body`` and ``filename`` are the (masked) name:
    the caption is in the customer's line above, so ``body`` is no caption (Matrix 1.10)."""
    info: dict[str, Any] = {"mimetype": file.mime_type, "size": file.size}
    if file.width is not None and file.height is not None:
        info |= {"w": file.width, "h": file.height}
    event = content.thread_message(thread_id, file.name, msgtype=MSGTYPES[file.kind])
    event |= {"filename": file.name, "info": info}
    if keys:
        event["file"] = {**keys, "url": uri, "mimetype": file.mime_type}
    else:
        event["url"] = uri
    if file.kind == "voice":
        event |= VOICE_FLAGS
    return event
