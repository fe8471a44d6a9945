"""Distinct types for the ids that travel between store, relay and adapters as strings.

All four are plain ``str`` at run time, and a thread id passed where a message id belongs
would be accepted by every function and fail only at the platform. As ``NewType``s mypy
refuses the swap; an adapter names the type once, where it reads an id off the wire.
"""

from __future__ import annotations

from typing import NewType

ThreadId = NewType("ThreadId", str)
"""A conversation's thread on the chat platform: the root post's id (Slack ``ts``, Matrix
event id)."""

ChatMessageId = NewType("ChatMessageId", str)
"""One post or reaction on the chat platform (Slack ``ts``, Matrix event id); a combined
post's riders carry ``<post>#<n>`` (``bot.batching``)."""

ProviderMessageId = NewType("ProviderMessageId", str)
"""A WhatsApp message's id at the provider (``wamid.…``), inbound or outbound."""

WaId = NewType("WaId", str)
"""A customer's WhatsApp id (the number's digits, no ``+``): personal data, never logged."""

StatusRef = NewType("StatusRef", str)
"""What a platform returns for the delivery mark it shows on an agent's message, to be
handed back when the mark changes (Slack: the reaction's name, Matrix: its event id)."""
