"""``bot.batching`` in the real relay and queue: queued customer lines share one post on a
paced platform, in order, each recorded; a retry never takes new riders. The last test runs
the production stack (``Empfang`` on the fake Slack)."""

from __future__ import annotations

import inspect
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.alerts.monitor import MonitoredChat
from bot.clock import ManualClock
from bot.config import PrivacySection
from bot.domain import (
    DeliveryStatus,
    InboundMessage,
    MessageKind,
    OutboundButtons,
    OutboundReaction,
    OutboundText,
    Sender,
    WebhookBatch,
)
from bot.errors import PlatformError
from bot.ids import ChatMessageId, ProviderMessageId, StatusRef, ThreadId, WaId
from bot.intake import Intake
from bot.jobs import RetryPolicy, WorkerPool
from bot.ports import (
    AgentMessage,
    Capabilities,
    CaseEvent,
)
from bot.relay import Relay, RelayPolicy
from bot.store import Store, Tx
from bot.texts import ENGLISH
from bot.wiring import relay_handlers
from tests.cases.doubles import RecordingChat
from tests.numbers import CUSTOMER
from tests.slack.conftest import StartStack

KEY = "test-pseudonym-key-0123456789"
_ids = itertools.count(1)


class Chat(RecordingChat):
    """``RecordingChat`` on a paced platform (``combine`` declares one that combines waiting
    lines) that also keeps its posts in order and its marks in order, and
    fails the next ``fail_posts`` posts as Slack's rate limit does."""

    name = "test"

    def __init__(self, combine: int | None, *, reactions: bool = True) -> None:
        super().__init__()
        self.capabilities = Capabilities(
            paced=combine is not None, combine_waiting=combine or 1, reactions=reactions
        )
        self.lines: list[tuple[ChatMessageId, str]] = []
        """Each post once, in order: its chat id and text."""
        self.marks: list[str] = []
        self.fail_posts = 0
        self.waits = 0
        self.while_waiting: Callable[[], Awaitable[None]] | None = None

    async def ready_to_post(self, thread_id: ThreadId) -> bool:
        """The slot comes at once, unless ``while_waiting`` is set: then it is a wait for
        the slot, during which that runs (once)."""
        self.waits += 1
        if self.while_waiting is None:
            return False
        during, self.while_waiting = self.while_waiting, None
        await during()
        return True

    async def post(self, thread_id: ThreadId, text: str, *, key: str) -> ChatMessageId:
        if self.fail_posts:
            self.fail_posts -= 1
            raise PlatformError("Slack chat.postMessage failed: ratelimited", retry_after=5)
        new = key not in self._keys
        chat_id = await super().post(thread_id, text, key=key)
        if new:
            self.lines.append((chat_id, text))
        return chat_id

    async def set_status(
        self,
        thread_id: ThreadId,
        chat_id: ChatMessageId,
        status: DeliveryStatus,
        *,
        previous: StatusRef | None,
        key: str,
    ) -> StatusRef | None:
        self.marks.append(status.value)
        return StatusRef(status.value)


class WhatsApp:
    def verify_challenge(self, mode: str | None, token: str | None) -> bool:
        return False

    def parse(self, body: bytes, signature_header: str | None) -> WebhookBatch:
        return WebhookBatch()

    async def send_text(self, to: WaId, message: OutboundText) -> ProviderMessageId:
        return ProviderMessageId(f"wamid.out{next(_ids)}")

    async def send_reaction(self, to: WaId, reaction: OutboundReaction) -> ProviderMessageId:
        return ProviderMessageId(f"wamid.out{next(_ids)}")

    async def send_buttons(self, to: WaId, message: OutboundButtons) -> ProviderMessageId:
        return ProviderMessageId(f"wamid.out{next(_ids)}")

    async def mark_read(self, provider_message_id: ProviderMessageId) -> None:
        return None

    async def aclose(self) -> None:
        return None


class Cases:
    def __init__(self) -> None:
        self.events: list[tuple[str, int | None]] = []

    async def record(self, tx: Tx, event: CaseEvent) -> None:
        self.events.append((event.kind, event.message_id))

    async def command(self, tx: Tx, conversation_id: int, argument: str, author: str) -> str:
        return ""


class Desk:
    def __init__(self, store: Store, combine: int | None, *, reactions: bool = True) -> None:
        self.store = store
        self.chat = Chat(combine, reactions=reactions)
        self.cases = Cases()
        privacy = PrivacySection(pseudonym_key=SecretStr(KEY))
        policy = RelayPolicy(privacy, ENGLISH)
        self.relay = Relay(store, self.chat, WhatsApp(), policy, cases=self.cases)
        handlers = relay_handlers(self.relay)
        self.pool = WorkerPool(store, handlers, policy=RetryPolicy(base_seconds=1))
        self.intake = Intake(store, pseudonym_key=KEY.encode())

    async def says(self, *texts: str) -> None:
        for text in texts:
            message = InboundMessage(
                provider_id=ProviderMessageId(f"wamid.in{next(_ids)}"),
                sender=Sender(wa_id=WaId(CUSTOMER)),
                timestamp=1_800_000_000,
                kind=MessageKind.TEXT,
                text=text,
            )
            await self.intake.accept(WebhookBatch(messages=(message,)))

    async def run(self) -> None:
        assert isinstance(self.store.clock, ManualClock)
        for _ in range(20):
            await self.pool.run_until_idle()
            self.store.clock.advance(10)

    def texts(self) -> list[str]:
        return [text for _, text in self.chat.lines]

    async def chat_ids(self) -> list[str | None]:
        query = "SELECT chat_id FROM messages WHERE direction = 'in' ORDER BY id"
        async with self.store.transaction() as tx:
            return [row[0] for row in await tx.conn.fetchall(query)]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "empfang.sqlite3", clock=ManualClock())
    yield opened
    await opened.close()


async def test_queued_lines_share_posts_in_order(store: Store) -> None:
    desk = Desk(store, combine=4)
    await desk.says("eins", "zwei", "drei", "vier", "fünf", "sechs")
    await desk.run()

    assert desk.texts() == ["eins\nzwei\ndrei\nvier", "fünf\nsechs"]
    first, second = (chat_id for chat_id, _ in desk.chat.lines)
    assert await desk.chat_ids() == [
        first,
        f"{first}#1",
        f"{first}#2",
        f"{first}#3",
        second,
        f"{second}#1",
    ]
    assert [kind for kind, _ in desk.cases.events].count("message_in") == 6


async def test_without_the_opt_in_every_line_keeps_its_post(store: Store) -> None:
    desk = Desk(store, combine=None)
    await desk.says("eins", "zwei", "drei")
    await desk.run()
    assert desk.texts() == ["eins", "zwei", "drei"]
    assert desk.chat.waits == 0


async def test_a_retry_takes_no_new_riders(store: Store) -> None:
    """The first attempt chose its riders; lines that arrive before the retry get their own
    post, because the first attempt may have posted under the same key already."""
    desk = Desk(store, combine=4)
    desk.chat.fail_posts = 1
    await desk.says("eins", "zwei")
    await desk.pool.run_until_idle()  # fails: "eins" + "zwei" chosen, nothing posted
    await desk.says("drei")
    await desk.run()
    assert desk.texts() == ["eins\nzwei", "drei"]


async def test_lines_that_queue_while_the_slot_is_awaited_ride_along(store: Store) -> None:
    """Riders are chosen after the wait for the posting slot: what the customer wrote
    meanwhile shares the post, though nothing was queued when the job took its line in."""
    desk = Desk(store, combine=4)
    await desk.says("eins")
    await desk.run()  # the thread exists
    await desk.says("zwei")
    desk.chat.while_waiting = lambda: desk.says("drei", "vier")
    await desk.run()
    assert desk.texts() == ["eins", "zwei\ndrei\nvier"]


async def test_a_line_queued_behind_when_taken_in_rides_along_without_a_wait(
    store: Store,
) -> None:
    desk = Desk(store, combine=4)
    await desk.says("eins")
    await desk.run()
    await desk.says("zwei", "drei")
    await desk.run()
    assert desk.texts() == ["eins", "zwei\ndrei"]
    assert desk.chat.waits == 2


async def test_other_jobs_keep_their_place(store: Store) -> None:
    desk = Desk(store, combine=4)
    await desk.says("eins")
    await desk.run()
    thread = next(v for k, v in desk.chat._keys.items() if "root-" in k)
    await desk.says("zwei")
    await desk.relay.on_agent_event(
        AgentMessage(
            chat_id=ChatMessageId("c1"),
            thread_id=ThreadId(thread),
            author_id="U1",
            author_name="A",
            text="!help",
        )
    )
    await desk.says("drei")
    await desk.run()
    texts = desk.texts()
    assert texts[0:2] == ["eins", "zwei"] and texts[3] == "drei"
    assert texts[2].startswith("Reply in this thread")


@pytest.mark.parametrize(("reactions", "marks"), [(True, ["queued"]), (False, [])])
async def test_delivery_marks_only_where_the_platform_shows_reactions(
    store: Store, reactions: bool, marks: list[str]
) -> None:
    """Not about combining, but the same desk: ``Capabilities.reactions`` decides whether
    the relay asks for marks; the shown state is recorded either way."""
    desk = Desk(store, combine=None, reactions=reactions)
    await desk.says("Hallo")
    await desk.run()
    thread = next(v for k, v in desk.chat._keys.items() if "root-" in k)
    reply = AgentMessage(
        chat_id=ChatMessageId("a1"),
        thread_id=ThreadId(thread),
        author_id="U1",
        author_name="A",
        text="Guten Tag",
    )
    await desk.relay.on_agent_event(reply)
    await desk.run()

    assert desk.chat.marks == marks
    query = "SELECT shown_status FROM messages WHERE direction = 'out'"
    async with store.transaction() as tx:
        shown = [row[0] for row in await tx.conn.fetchall(query)]
    assert shown == ["queued"]  # "sent" waits for WhatsApp's receipt


async def test_lines_behind_a_rate_limit_share_a_post_through_the_production_stack(
    fast_slack: None, start_stack: StartStack
) -> None:
    """``Empfang`` wraps the Slack platform (``MonitoredChat``); combining must survive the
    wrapper. Slack's budget is used up, so the first line's job gets a 429 and the lines
    the customer writes meanwhile queue behind it. The retry takes no riders (see
    ``bot.batching``); the next post carries all the rest."""
    stack = await start_stack("socket")
    assert stack.bot is not None and stack.bot.relaying is not None
    watched = stack.bot.relaying.chat  # the platform as the relay sees it
    assert isinstance(watched, MonitoredChat)
    # What Python >= 3.12's isinstance on protocols looks at: members found without __getattr__.
    assert inspect.getattr_static(watched, "ready_to_post")
    assert watched.capabilities.combine_waiting == 10

    stack.fake.throttle(2)
    lines = ["eins", "zwei", "drei", "vier"]
    for line in lines:
        stack.say("+" + CUSTOMER, line)
    thread = await stack.thread_of("+" + CUSTOMER)
    await stack.settled()

    assert stack.fake.bot_texts(thread) == ["eins", "zwei\ndrei\nvier"]
    chat_ids = [row[0] for row in stack.rows("SELECT chat_id FROM messages ORDER BY id")]
    first, second = (str(m["ts"]) for m in stack.fake.thread(thread))
    assert chat_ids == [first, second, f"{second}#1", f"{second}#2"]
    assert len(stack.fake.rate_limited) == 1
