"""Durable job workers: lease, run, retry with backoff, dead-letter.

Every send to Slack, Matrix, WhatsApp or a case system is a job. Jobs are enqueued in the
transaction that creates their reason (see ``bot.store.jobs``), so a crash either loses both
or neither. Workers lease a job instead of deleting it, so a job whose worker died is leased
again when the lease expires. The retry decision is made from ``bot.errors`` alone.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.errors import DeliveryError, RateLimited
from bot.store import Store, Tx
from bot.store.jobs import Job

log = logging.getLogger("empfang.jobs")

JobHandler = Callable[[Job], Awaitable[None]]
DeadLetterHook = Callable[[Job, str], Awaitable[None]]


class OutageHooks(Protocol):
    """Who hears that jobs wait out an outage (after as many attempts as would have
    dead-lettered them), and that a job of that kind went through again."""

    async def waiting_out(self, job: Job, reason: str) -> None: ...

    async def went_through(self, kind: str) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_seconds: float = 1.0
    max_seconds: float = 300.0
    outage_patience_seconds: float = 3 * 86400.0
    """How long a job waits out a platform that cannot be reached (``DeliveryError.outage``)
    before it is dead-lettered; its attempts are not used up meanwhile."""

    def delay(self, attempts: int, error: BaseException) -> float:
        """Seconds until the next attempt: the provider's ``Retry-After`` if it said one.

        Otherwise exponential backoff with jitter (half fixed, half random), so jobs that
        failed together do not retry together.
        """
        if isinstance(error, DeliveryError) and error.retry_after is not None:
            return max(float(error.retry_after), 0.0)
        ceiling = min(self.max_seconds, self.base_seconds * 2.0 ** max(attempts - 1, 0))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def gives_up(self, job: Job, error: BaseException, now: float) -> bool:
        attempts = job.attempts
        if isinstance(error, DeliveryError) and not error.retryable:
            return True
        if isinstance(error, DeliveryError) and error.outage:
            return now - job.created_at >= self.outage_patience_seconds
        # Rate limits (a RateLimited error, or any platform naming a Retry-After) are the
        # other side asking us to wait, not a failure of the job.
        waiting = isinstance(error, RateLimited) or (
            isinstance(error, DeliveryError) and error.retry_after is not None
        )
        limit = self.max_attempts * 3 if waiting else self.max_attempts
        return attempts >= limit


def describe(error: BaseException) -> str:
    """A reason for logs and the dead-letter table: class and code, never payload data."""
    code = getattr(error, "code", None)
    text = f"{type(error).__name__}: {error}"
    return f"{text} (code {code})" if code is not None else text


class UnrunnableJob(Exception):
    """A job that can never succeed as stored: it is dead-lettered at once, not retried."""


class UnknownJobKind(UnrunnableJob):
    """A job whose kind no handler serves (e.g. written by a newer version)."""


class InvalidJobPayload(UnrunnableJob):
    """A job whose payload does not fit its kind's model (``bot.job_catalog``)."""


class Bell:
    """Wakes idle workers one at a time.

    A commit that adds jobs rings it once and one sleeping worker gets up; a worker that
    leased a job passes the wake on to the next sleeper (there may be more jobs), so a burst
    still brings every worker in while a single job costs one lease, not one per worker.
    Waking all of them made every idle worker run an empty lease (a transaction, three
    hand-offs to the database thread) after every webhook: with 16 workers that was most of
    the bot's CPU at 50 msgs/s (``bench/relay_overhead.py``).
    """

    def __init__(self) -> None:
        self._sleepers: deque[asyncio.Future[None]] = deque()
        self._rung = False
        """A ring that found nobody asleep: the next worker to lie down gets up at once (a
        worker whose lease just missed the new job must not sleep through it)."""
        self._closed = False

    def ring(self) -> None:
        """New jobs: wake one sleeper, or the next worker that would sleep."""
        if not self.wake_one():
            self._rung = True

    def wake_one(self) -> bool:
        """Wake one sleeper if there is one (a worker found a job: there may be more)."""
        while self._sleepers:
            sleeper = self._sleepers.popleft()
            if not sleeper.done():
                sleeper.set_result(None)
                return True
        return False

    def close(self) -> None:
        """Wake everyone, and let nobody sleep until :meth:`reopen` (stopping)."""
        self._closed = True
        while self.wake_one():
            pass

    def reopen(self) -> None:
        self._closed = False

    async def sleep(self, seconds: float) -> None:
        """Sleep until rung, at most ``seconds``."""
        if self._closed or self._rung:
            self._rung = False
            return
        sleeper = asyncio.get_running_loop().create_future()
        self._sleepers.append(sleeper)
        try:
            async with asyncio.timeout(seconds):  # not wait_for: it can drop a cancel (3.11)
                await sleeper
        except TimeoutError:
            pass
        finally:
            if not sleeper.done():
                sleeper.cancel()
                self._sleepers.remove(sleeper)


class WorkerPool:
    """N workers draining the queue; wake on new jobs and sleep until the next due job."""

    def __init__(
        self,
        store: Store,
        handlers: Mapping[str, JobHandler],
        *,
        workers: int = 4,
        lease_seconds: float = 60.0,
        policy: RetryPolicy | None = None,
        on_dead: DeadLetterHook | None = None,
        outages: OutageHooks | None = None,
        idle_poll_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self._handlers = dict(handlers)
        self._workers = workers
        self._lease_seconds = lease_seconds
        self._policy = policy or RetryPolicy()
        self._on_dead = on_dead
        self._outages = outages
        self._idle_poll = idle_poll_seconds
        self._store_down = False
        self._bell = Bell()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        store.on_new_jobs(self._bell.ring)

    def start(self) -> None:
        self._stopping.clear()
        self._bell.reopen()
        self._tasks = [
            asyncio.create_task(self._loop(), name=f"empfang-worker-{n}")
            for n in range(self._workers)
        ]

    async def stop(self, drain_seconds: float = 10.0) -> None:
        """Let running jobs finish (up to ``drain_seconds``); unfinished ones keep their lease
        and are picked up again after a restart."""
        self._stopping.set()
        self._bell.close()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=drain_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._tasks = []

    async def run_once(self) -> bool:
        """Lease and run one due job; False if none was due. Tests drive the queue with it."""
        job, _ = await self._lease()
        if job is None:
            return False
        await self._run(job)
        return True

    async def run_until_idle(self, limit: int = 10_000) -> int:
        """Run due jobs until none is due; returns how many ran."""
        ran = 0
        while ran < limit and await self.run_once():
            ran += 1
        return ran

    async def _lease(self) -> tuple[Job | None, float | None]:
        """A due job, or else when the next one is due: one transaction either way, as a
        worker that finds nothing to do goes to sleep right after; one hand-off to the
        store's thread (``Store.transact``). Not synced to disk: a lease lost with the
        power is a job leased again, as after a crash."""
        now = self._store.clock.now()
        token = uuid.uuid4().hex

        async def lease(tx: Tx) -> tuple[Job | None, float | None]:
            job = await tx.jobs.lease(now=now, until=now + self._lease_seconds, token=token)
            return job, (await tx.jobs.next_due(now) if job is None else None)

        return await self._store.transact(lease, durable=False)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                job, due = await self._lease()
            except Exception as exc:  # the poll is store work alone: the store is unreachable
                self._store_unreachable(exc)
                await self._sleep_until(None)
                continue
            self._store_reachable()
            if job is None:
                await self._sleep_until(due)
                continue
            self._bell.wake_one()
            try:
                await self._run(job)
            except Exception:
                log.exception("job worker error; continuing")
                await self._sleep_until(None)

    def _store_unreachable(self, error: Exception) -> None:
        """One warning per outage, not a traceback per failed poll: while PostgreSQL
        restarts, every worker's poll fails several times a second, and the traceback says
        nothing more than the one line does."""
        if not self._store_down:
            self._store_down = True
            log.warning(
                "job workers: cannot reach the store (%s); polling again every %.1f s",
                type(error).__name__,
                self._idle_poll,
            )

    def _store_reachable(self) -> None:
        if self._store_down:
            self._store_down = False
            log.info("job workers: store reachable again")

    async def _sleep_until(self, due: float | None) -> None:
        timeout = self._idle_poll
        if due is not None:
            timeout = min(timeout, max(due - self._store.clock.now(), 0.005))
        await self._bell.sleep(timeout)

    async def _run(self, job: Job) -> None:
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise UnknownJobKind(f"no handler for job kind {job.kind!r}")
            await self._store.intake_on_disk()  # its message may not be on disk yet
            await handler(job)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # every failure is either retried or dead-lettered
            await self._failed(job, error)
            return
        finally:
            completed = self._store.completed(job)
        if not completed:  # else the handler completed it in its own last transaction
            # Not synced to disk: an end lost with the power is a job run again, as after
            # a crash between its effect and its end.
            if not await self._store.transact(lambda tx: tx.jobs.complete(job), durable=False):
                log.warning("job %s (%s) finished after its lease was taken over", job.id, job.kind)
            # The store notes every completion for the worker to ask about; nobody asks
            # about this one, and unasked ids were kept for as long as the bot ran.
            self._store.completed(job)
        if self._outages is not None:
            await self._outages.went_through(job.kind)

    async def _failed(self, job: Job, error: Exception) -> None:
        reason = describe(error)
        now = self._store.clock.now()
        if isinstance(error, UnrunnableJob) or self._policy.gives_up(job, error, now):
            async with self._store.transaction() as tx:
                await tx.jobs.dead_letter(job, error=reason)
            log.error(
                "job dead-lettered: id=%s kind=%s key=%s attempts=%s reason=%s",
                job.id,
                job.kind,
                job.order_key,
                job.attempts,
                reason,
            )
            if self._on_dead is not None:
                await self._on_dead(job, reason)
            return
        outage = isinstance(error, DeliveryError) and error.outage
        if outage and job.attempts == self._policy.max_attempts and self._outages is not None:
            await self._outages.waiting_out(job, reason)
        delay = self._policy.delay(job.attempts, error)
        if not isinstance(error, DeliveryError):
            log.error("job %s (%s) failed unexpectedly", job.id, job.kind, exc_info=error)
        log.warning(
            "job retry: id=%s kind=%s attempt=%s in=%.1fs reason=%s",
            job.id,
            job.kind,
            job.attempts,
            delay,
            reason,
        )
        async with self._store.transaction() as tx:
            await tx.jobs.retry_later(job, run_after=now + delay, error=reason)
