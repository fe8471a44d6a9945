"""The simulated customers: their 24-hour windows, what the business sent them, receipts.

Every accepted send gets a status pipeline that behaves like a phone: after
``status_delay_seconds`` the message is ``sent``, then ``delivered`` (skipped with
``skip_delivered_probability``), then ``read`` once the customer reads (at once with
``auto_read``, else on ``POST /sandbox/read/{number}``). Sends that Meta accepts but cannot
deliver (window closed → 131047, unreachable number → 131026) get a single ``failed``
status instead, because the real API reports these asynchronously too.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.sandbox import payloads as p
from bot.sandbox.delivery import Background, WebhookDeliverer
from bot.sandbox.graph import MEDIA_TYPES, ReadRequest, SendRequest
from bot.sandbox.options import Options
from bot.sandbox.payloads import JSON, BusinessNumber

log = logging.getLogger("bot.sandbox.phone")

MARK_READ_MAX_AGE = 30 * 24 * 3600
REACTION_MAX_AGE = 30 * 24 * 3600
TYPING_SECONDS = 25
DEFAULT_PROFILE_NAME = "Sandbox Customer"
_RANK = {"sent": 1, "failed": 2, "delivered": 3, "read": 4}


def masked(wa_id: str) -> str:
    """How logs name a customer: never the number, only its last two digits."""
    return f"…{wa_id[-2:]}"


@dataclass
class StatusEvent:
    status: str
    timestamp: str
    errors: list[JSON] | None = None

    def view(self) -> JSON:
        entry: JSON = {"status": self.status, "timestamp": self.timestamp}
        if self.errors:
            entry["errors"] = self.errors
        return entry


@dataclass
class Conversation:
    conversation_id: str
    category: str
    expires_at: float


@dataclass
class Outbound:
    """A message the business sent, as the customer's phone knows it."""

    wamid: str
    request: SendRequest
    timestamp: str
    failure: JSON | None
    conversation: Conversation | None
    billable: bool
    pricing_type: str
    events: list[StatusEvent] = field(default_factory=list)
    read_requested: bool = False
    pipeline_done: bool = False

    def has(self, status: str) -> bool:
        return any(event.status == status for event in self.events)

    def view(self) -> JSON:
        req = self.request
        content = req.content
        summary = None
        if req.type == "text":
            summary = content.get("body")
        elif req.type in MEDIA_TYPES:
            summary = content.get("caption")
        elif req.type == "interactive":
            body = content.get("body")
            summary = body.get("text") if isinstance(body, dict) else None
        elif req.type == "reaction":
            summary = content.get("emoji")
        latest = max(self.events, key=lambda e: _RANK.get(e.status, 0), default=None)
        return {
            "id": self.wamid,
            "type": req.type,
            "timestamp": self.timestamp,
            "text": summary,
            "media_id": req.media_id,
            "link": content.get("link") if req.type in MEDIA_TYPES else None,
            "context": {"message_id": req.context_message_id} if req.context_message_id else None,
            "content": content,
            "biz_opaque_callback_data": req.biz_opaque_callback_data,
            "status": latest.status if latest else "accepted",
            "statuses": [event.view() for event in self.events],
            "errors": [error for event in self.events for error in (event.errors or [])],
        }


@dataclass
class Customer:
    wa_id: str
    name: str | None = None
    last_inbound_at: float | None = None
    unreachable: bool = False
    marketing_stopped: bool = False
    """The customer stopped marketing messages: marketing templates fail with 131050."""
    outbound: list[Outbound] = field(default_factory=list)
    inbound: list[tuple[str, float]] = field(default_factory=list)
    read_by_business: set[str] = field(default_factory=set)
    typing_at: float | None = None
    conversations: dict[str, Conversation] = field(default_factory=dict)


class Phones:
    """All simulated customers of one business number."""

    def __init__(
        self,
        *,
        business: BusinessNumber,
        options: Options,
        clock: Clock,
        deliverer: WebhookDeliverer,
        background: Background,
        rng: random.Random,
    ) -> None:
        self._business = business
        self._options = options
        self._clock = clock
        self._deliverer = deliverer
        self._background = background
        self._rng = rng
        self.customers: dict[str, Customer] = {}
        self._inbound_owner: dict[str, str] = {}

    @property
    def business(self) -> BusinessNumber:
        return self._business

    def customer(self, wa_id: str) -> Customer:
        return self.customers.setdefault(wa_id, Customer(wa_id))

    def timestamp(self) -> str:
        return str(int(self._clock.now()))

    def reset(self) -> None:
        self.customers.clear()
        self._inbound_owner.clear()

    # -- the customer writes ---------------------------------------------------------------

    def record_inbound(self, wa_id: str, name: str | None, wamid: str) -> Customer:
        """Every customer message (re)opens the 24-hour window."""
        customer = self.customer(wa_id)
        if name is not None:
            customer.name = name
        now = self._clock.now()
        customer.last_inbound_at = now
        customer.inbound.append((wamid, now))
        self._inbound_owner[wamid] = wa_id
        return customer

    def last_outbound(self, wa_id: str) -> str | None:
        customer = self.customers.get(wa_id)
        return customer.outbound[-1].wamid if customer and customer.outbound else None

    def window_closes_at(self, customer: Customer) -> float | None:
        if customer.last_inbound_at is None:
            return None
        return customer.last_inbound_at + self._options.section.window_hours * 3600

    def window_open(self, customer: Customer) -> bool:
        closes = self.window_closes_at(customer)
        return closes is not None and self._clock.now() < closes

    # -- the business sends ----------------------------------------------------------------

    def accept(self, request: SendRequest, template_category: str | None = None) -> Outbound:
        """Record an accepted send and start its status pipeline in the background;
        ``template_category`` is the catalogue's for a template send."""
        customer = self.customer(request.wa_id)
        in_window = self.window_open(customer)
        failure = None
        if customer.unreachable:
            failure = p.UNDELIVERABLE_ERROR
        elif template_category == "MARKETING" and customer.marketing_stopped:
            failure = p.MARKETING_STOPPED_ERROR
        elif not request.is_template and not in_window:
            failure = p.WINDOW_CLOSED_ERROR
        elif request.type == "reaction" and not self._may_react_to(customer, request):
            failure = p.REACTION_TARGET_ERROR
        category = (template_category or "utility").lower() if request.is_template else "service"
        billable = request.is_template and not in_window
        outbound = Outbound(
            wamid=p.new_wamid(request.wa_id, outbound=True),
            request=request,
            timestamp=self.timestamp(),
            failure=failure,
            conversation=None if failure else self._conversation(customer, category),
            billable=billable,
            pricing_type="regular" if billable else "free_customer_service",
        )
        customer.outbound.append(outbound)
        log.info(
            "business sent %s to %s: %s",
            request.type,
            masked(request.wa_id),
            "accepted" if failure is None else f"will fail with {failure['code']}",
        )
        self._background.spawn(self._pipeline(customer, outbound), "statuses")
        return outbound

    def _may_react_to(self, customer: Customer, request: SendRequest) -> bool:
        """A business reacts only to a message the customer sent it in the last 30 days."""
        target = request.content.get("message_id")
        now = self._clock.now()
        return any(
            wamid == target and now - received_at <= REACTION_MAX_AGE
            for wamid, received_at in customer.inbound
        )

    def _conversation(self, customer: Customer, category: str) -> Conversation:
        now = self._clock.now()
        current = customer.conversations.get(category)
        if current is None or current.expires_at <= now:
            current = Conversation(secrets.token_hex(16), category, now + 24 * 3600)
            customer.conversations[category] = current
        return current

    def mark_read_by_business(self, request: ReadRequest) -> bool:
        """Mark-as-read (and earlier messages of that customer); False for an unknown wamid."""
        wa_id = self._inbound_owner.get(request.message_id)
        if wa_id is None:
            return False
        customer = self.customers[wa_id]
        now = self._clock.now()
        for wamid, received_at in customer.inbound:
            if wamid == request.message_id and now - received_at > MARK_READ_MAX_AGE:
                return False
        for wamid, _ in customer.inbound:
            customer.read_by_business.add(wamid)
            if wamid == request.message_id:
                break
        if request.typing:
            customer.typing_at = now
        return True

    # -- receipts ---------------------------------------------------------------------------

    async def _pipeline(self, customer: Customer, outbound: Outbound) -> None:
        delay = self._options.section.status_delay_seconds
        await asyncio.sleep(delay)
        if outbound.failure is not None:
            await self._emit(outbound, "failed", errors=[outbound.failure])
            outbound.pipeline_done = True
            return
        plan = ["sent"]
        # Meta: a reaction triggers only the ``sent`` webhook, never delivered or read.
        reaction = outbound.request.type == "reaction"
        if not reaction and self._rng.random() >= self._options.section.skip_delivered_probability:
            plan.append("delivered")
        if not reaction and (self._options.auto_read or outbound.read_requested):
            plan.append("read")
        if self._options.section.reorder_deliveries:
            self._rng.shuffle(plan)
        for index, state in enumerate(plan):
            if index:
                await asyncio.sleep(delay)
            await self._emit(outbound, state)
        outbound.pipeline_done = True
        if outbound.read_requested and not outbound.has("read"):
            await self._emit(outbound, "read")

    def customer_reads(self, wa_id: str) -> list[str]:
        """The customer opens the chat: every message not yet read will be (or is now) read."""
        customer = self.customers.get(wa_id)
        if customer is None:
            return []
        marked = []
        for outbound in customer.outbound:
            if outbound.failure is not None or outbound.has("read") or outbound.read_requested:
                continue
            outbound.read_requested = True
            marked.append(outbound.wamid)
            if outbound.pipeline_done:
                self._background.spawn(self._emit(outbound, "read"), "read")
        return marked

    async def _emit(self, outbound: Outbound, state: str, errors: list[JSON] | None = None) -> None:
        timestamp = self.timestamp()
        outbound.events.append(StatusEvent(state, timestamp, errors))
        conversation = pricing = None
        conv = outbound.conversation
        if conv is not None and state in {"sent", "delivered"}:
            expiry = str(int(conv.expires_at)) if state == "sent" else None
            conversation = p.conversation(conv.conversation_id, conv.category, expiry)
            pricing = p.pricing(
                conv.category, billable=outbound.billable, pricing_type=outbound.pricing_type
            )
        entry = p.status(
            outbound.wamid,
            state,
            recipient_id=outbound.request.wa_id,
            timestamp=timestamp,
            conversation_obj=conversation,
            pricing_obj=pricing,
            errors=errors,
            biz_opaque_callback_data=outbound.request.biz_opaque_callback_data,
        )
        await self._deliverer.deliver(
            p.statuses_webhook(self._business, [entry]),
            lane=outbound.request.wa_id,
            kind="statuses",
            message_ids=[outbound.wamid],
            statuses=[state],
        )

    # -- views ------------------------------------------------------------------------------

    def inbox(self, wa_id: str) -> JSON:
        """What this customer's phone shows: the business's messages and their ticks."""
        customer = self.customers.get(wa_id) or Customer(wa_id)
        closes = self.window_closes_at(customer)
        now = self._clock.now()
        return {
            "wa_id": wa_id,
            "name": customer.name,
            "unreachable": customer.unreachable,
            "marketing_stopped": customer.marketing_stopped,
            "window_open": self.window_open(customer),
            "window_closes_at": str(int(closes)) if closes is not None else None,
            "messages": [outbound.view() for outbound in customer.outbound],
            "read_by_business": [w for w, _ in customer.inbound if w in customer.read_by_business],
            "typing": customer.typing_at is not None and now - customer.typing_at < TYPING_SECONDS,
        }
