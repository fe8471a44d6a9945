"""What an agent's message carries beyond its text: the customer message it answers (a
Matrix quote reply → WhatsApp ``context.message_id``) and reply buttons (``!buttons``)."""

from __future__ import annotations

from bot.domain import OutboundButtons, OutboundText
from bot.ids import ProviderMessageId, WaId
from bot.ports import AgentMessage, WhatsAppProvider
from bot.store import Store, Tx
from bot.store.conversations import ConversationRow
from bot.store.mirror import Extras, MirrorRows


class OutboundExtras:
    def __init__(self, store: Store, whatsapp: WhatsAppProvider) -> None:
        self._store = store
        self._whatsapp = whatsapp

    async def record(
        self,
        tx: Tx,
        message_id: int,
        conversation: ConversationRow,
        event: AgentMessage,
        buttons: OutboundButtons | None,
    ) -> None:
        """Keep what the send needs besides the text. A reply to anything but one of this
        conversation's customer messages is sent as plain text (WhatsApp could not show
        what it quotes)."""
        reply_to = None
        if event.reply_to is not None:
            target = await tx.messages.by_chat_id(event.reply_to)
            if (
                target is not None
                and target.direction == "in"
                and target.provider_id is not None
                and target.conversation_id == conversation.id
            ):
                reply_to = target.id
        extras = Extras(reply_to=reply_to, buttons=buttons.options if buttons else ())
        if extras != Extras():
            await MirrorRows(tx.conn).set_extras(message_id, extras)

    async def send(self, message_id: int, to: WaId, body: str) -> ProviderMessageId:
        """Send a stored agent message as text (quoting what it answers) or as buttons."""
        async with self._store.transaction() as tx:
            extras = await MirrorRows(tx.conn).extras(message_id)
            quoted = await tx.messages.get(extras.reply_to) if extras.reply_to else None
        if extras.buttons:
            buttons = OutboundButtons(text=body, options=extras.buttons)
            return await self._whatsapp.send_buttons(to, buttons)
        reply_to = quoted.provider_id if quoted is not None else None
        return await self._whatsapp.send_text(to, OutboundText(text=body, reply_to=reply_to))
