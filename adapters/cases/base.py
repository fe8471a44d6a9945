"""The shape shared by sinks whose "case" is just the sequence of what they were sent.

Webhook, e-mail and JSONL have no case to create or close on the far side: opening and
appending both send the transfer, and closing sends nothing (the ``closed`` or ``transcript``
transfer was sent like any other). Zammad, which does have tickets, implements the port itself.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from bot.cases.model import CaseRef, Transfer


class SendingSink(ABC):
    async def open_case(self, transfer: Transfer) -> CaseRef:
        return await self.send(CaseRef(), transfer)

    async def append(self, ref: CaseRef, transfer: Transfer) -> CaseRef:
        return await self.send(ref, transfer)

    async def close(self, ref: CaseRef) -> None:
        return None

    async def aclose(self) -> None:
        return None

    @abstractmethod
    async def send(self, ref: CaseRef, transfer: Transfer) -> CaseRef:
        """Deliver ``transfer`` to the case in ``ref``; the (possibly updated) ref."""
