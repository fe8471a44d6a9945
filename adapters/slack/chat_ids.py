"""The ids the core keeps for Slack posts: a ``ts``, qualified by its channel outside the
home channel (``[slack] channel_id``).

A Slack ``ts`` is unique only within its channel: two channels may each hold a post with
the same ``ts``. The core keeps thread and message ids unique across every room
(``conversations.thread_id``, ``messages.chat_id``) and treats them as opaque. So ids of
posts in any channel but the home one are ``<channel>:<ts>``; in the home channel they stay
the plain ``ts``, as stored before several channels existed. Neither a channel id nor a
``ts`` contains a colon; the core's ``<post>#<n>`` ids of combined lines (``bot.batching``)
are cut back to the post before they reach the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Located:
    """A post in Slack's terms."""

    channel: str
    ts: str


class ChatIds:
    def __init__(self, home: str) -> None:
        self._home = home

    def of(self, channel: str, ts: str) -> str:
        """The id the core keeps for post ``ts`` in ``channel``."""
        return ts if channel == self._home else f"{channel}:{ts}"

    def locate(self, chat_id: str, scoped: str) -> Located:
        """Where a kept id points. A plain ``ts`` was posted in the home channel of its
        time: the channel the core scoped the call to (the conversation's recorded room,
        else today's home channel)."""
        channel, qualified, ts = chat_id.rpartition(":")
        return Located(channel, ts) if qualified else Located(scoped, chat_id)
