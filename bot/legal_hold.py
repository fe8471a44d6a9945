"""``!hold <reason>`` and ``!release`` in a thread: a legal hold exempts a conversation from
retention until it is released (Art. 17(3)(e): data needed for legal claims).

A reason is required, because a hold keeps personal data beyond its retention period and
that needs a justification on record. The reason is stored and shown with anything that
could be a number masked. Both actions are written to the audit trail in the same transaction
as the hold itself, with the customer's pseudonym as subject.
"""

from __future__ import annotations

from bot.audit import AuditAction, AuditEntry, record
from bot.logfilter import mask_log_text
from bot.store import Tx
from bot.store.conversations import ConversationRow
from bot.store.holds import HoldRow
from bot.texts import Texts


async def place_hold(
    tx: Tx,
    conversation: ConversationRow,
    reason: str,
    agent_id: str,
    agent_name: str,
    texts: Texts,
) -> str:
    """Hold the conversation; the answer for the thread."""
    reason = mask_log_text(reason.strip())
    if not reason:
        return texts.hold_needs_reason
    existing = await tx.holds.get(conversation.id)
    if existing is not None:
        return texts.hold_exists.format(reason=existing.reason)
    hold = HoldRow(conversation.id, reason, agent_id, tx.clock.now())
    await tx.holds.hold(hold)
    await _audit(tx, conversation, "retention.hold", agent_id, reason)
    return texts.hold_placed.format(agent=agent_name, reason=reason)


async def release_hold(
    tx: Tx, conversation: ConversationRow, agent_id: str, agent_name: str, texts: Texts
) -> str:
    """Lift the conversation's hold; the answer for the thread."""
    if not await tx.holds.release(conversation.id):
        return texts.hold_none
    await _audit(tx, conversation, "retention.release", agent_id, None)
    return texts.hold_released.format(agent=agent_name)


async def _audit(
    tx: Tx,
    conversation: ConversationRow,
    action: AuditAction,
    agent_id: str,
    reason: str | None,
) -> None:
    contact = await tx.contacts.get(conversation.contact_id)
    entry = AuditEntry(
        action,
        agent_id,
        subject=contact.pseudonym if contact else None,
        reason=reason,
        details={"conversation": conversation.id},
    )
    await record(tx, entry)
