"""``empfang jobs list|retry|drop`` and ``empfang status``: the queue in the operator's hands.

A dead letter is a job the workers gave up on (``jobs.max_attempts``, a permanent error, or
a payload this version cannot read). The operator looks at it (``list``), sends it round
again once the cause is fixed (``retry``), or removes it for good with a reason (``drop``),
which the audit trail records (``bot.audit``: who, why, when, which job). ``status`` is the
one-screen answer to "is the bot keeping up?".

These commands open the same SQLite file as the running bot (WAL lets both work); the bot's
workers see a retried job at their next poll, within a second. Output names kinds, ids,
times and counts, never a payload, a message or a number: a job's last error is shown with
anything number-like masked.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.alerts.monitor import KIND as CHAT_UNREACHABLE
from bot.audit import AuditEntry, cli_actor, record
from bot.chain_cli import ConfigArg, store_path
from bot.domain import SERVICE_WINDOW_SECONDS
from bot.job_catalog import CASE_TRANSFER, KIND_NAMES
from bot.jobs import InvalidJobPayload
from bot.logfilter import mask_log_text
from bot.store import Store, StoreLocation, Tx
from bot.store.jobs import JobInfo
from bot.store.ops_view import OpsView

ERROR_WIDTH = 100
"""A last error is cut to this many characters in ``jobs list``."""


def add_ops_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], config_arg: ConfigArg
) -> None:
    jobs = sub.add_parser("jobs", help="list, retry or drop queued and dead-lettered jobs")
    actions = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="jobs without their content, oldest first")
    config_arg(listing)
    state = listing.add_mutually_exclusive_group()
    state.add_argument("--dead", action="store_true", help="only dead-lettered jobs")
    state.add_argument("--pending", action="store_true", help="only jobs still to run")
    listing.add_argument("--kind", choices=sorted(KIND_NAMES), help="only jobs of this kind")
    listing.add_argument("--limit", type=int, default=1000, help="at most this many (1000)")

    retry = actions.add_parser("retry", help="run dead-lettered jobs again, from attempt one")
    config_arg(retry)
    retry.add_argument("ids", nargs="*", type=int, metavar="ID", help="job ids from jobs list")
    retry.add_argument("--all-dead", action="store_true", help="every dead-lettered job")

    drop = actions.add_parser("drop", help="delete jobs for good (recorded in the audit trail)")
    config_arg(drop)
    drop.add_argument("ids", nargs="+", type=int, metavar="ID", help="job ids from jobs list")
    drop.add_argument("--reason", required=True, help="why; kept in the audit trail")

    status = sub.add_parser("status", help="queues, dead letters, last webhook, alerts")
    config_arg(status)


def run_jobs(args: argparse.Namespace) -> int:
    path = store_path(args.config)
    if path is None:
        return 1
    if args.jobs_command == "list":
        state = "dead" if args.dead else "pending" if args.pending else None
        return asyncio.run(_list(path, state, args.kind, args.limit))
    if args.jobs_command == "retry":
        if bool(args.ids) == bool(args.all_dead):
            print("error: name job ids or --all-dead (one of the two)", file=sys.stderr)
            return 1
        return asyncio.run(_retry(path, None if args.all_dead else args.ids))
    if not args.reason.strip():
        print("error: --reason must say why the jobs are dropped", file=sys.stderr)
        return 1
    return asyncio.run(_drop(path, args.ids, args.reason.strip()))


def run_status(args: argparse.Namespace) -> int:
    path = store_path(args.config)
    if path is None:
        return 1
    for line in asyncio.run(_status(path)):
        print(line)
    return 0


def when(moment: float, now: float) -> str:
    """``2026-12-01 04:30 UTC (12 min ago)``."""
    stamp = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")
    seconds = now - moment
    if seconds < 0:
        return f"{stamp} (in {_span(-seconds)})"
    return f"{stamp} ({_span(seconds)} ago)"


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "<1 min"
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


def _error_text(error: str | None) -> str:
    if not error:
        return ""
    line = mask_log_text(" ".join(error.split()))
    return line if len(line) <= ERROR_WIDTH else line[: ERROR_WIDTH - 1] + "…"


async def _list(path: StoreLocation, state: str | None, kind: str | None, limit: int) -> int:
    store = await Store.open(path)
    try:
        async with store.transaction() as tx:
            jobs = await tx.jobs.listing(state=state, kind=kind, limit=limit)
        now = store.clock.now()
    finally:
        await store.close()
    if not jobs:
        print("no jobs")
        return 0
    print(f"{'ID':>8}  {'KIND':<15} {'STATE':<8} {'TRIES':>5}  {'ENQUEUED':<34} LAST ERROR")
    for job in jobs:
        shown_state = "running" if _running(job, now) else job.state
        line = (
            f"{job.id:>8}  {job.kind:<15} {shown_state:<8} {job.attempts:>5}  "
            f"{when(job.created_at, now):<34} {_error_text(job.last_error)}"
        )
        print(line.rstrip())
    return 0


def _running(job: JobInfo, now: float) -> bool:
    return job.state == "pending" and job.lease_until is not None and job.lease_until >= now


async def _retry(path: StoreLocation, ids: Sequence[int] | None) -> int:
    store = await Store.open(path)
    try:
        async with store.transaction() as tx:
            revived = await tx.jobs.revive(ids, now=tx.clock.now())
            await _renew_transfers(tx, revived)
    finally:
        await store.close()
    print(f"requeued {len(revived)} dead-lettered job(s){': ' if revived else ''}", end="")
    print(", ".join(map(str, revived)))
    missing = sorted(set(ids or ()) - set(revived))
    for job_id in missing:
        print(f"error: job {job_id} is not dead-lettered (or does not exist)", file=sys.stderr)
    return 1 if missing else 0


async def _renew_transfers(tx: Tx, job_ids: Sequence[int]) -> None:
    """A dead case transfer has its ``dead_lettered`` row in the transfer ledger, keyed by
    its transfer id, and a transfer whose id is in the ledger counts as done. Sent round
    again it is a new transfer: a new id, so its outcome gets a ledger row of its own."""
    for job_id in job_ids:
        job = await tx.jobs.get(job_id)
        if job is None or job.kind != CASE_TRANSFER.name:
            continue
        try:
            request = CASE_TRANSFER.parse(job)
        except InvalidJobPayload:
            continue  # dead-lettered again at once, with the reason
        renewed = request.model_copy(update={"transfer_id": uuid.uuid4().hex})
        await tx.jobs.set_payload(job_id, renewed.model_dump_json())


async def _drop(path: StoreLocation, ids: Sequence[int], reason: str) -> int:
    store = await Store.open(path)
    failed = 0
    actor = cli_actor()
    try:
        for job_id in ids:
            async with store.transaction() as tx:
                job = await tx.jobs.remove(job_id, now=tx.clock.now())
                if job is not None:
                    await record(
                        tx,
                        AuditEntry(
                            action="job.drop",
                            actor=actor,
                            reason=reason,
                            details={
                                "job": job.id,
                                "kind": job.kind,
                                "state": job.state,
                                "attempts": job.attempts,
                            },
                        ),
                    )
            if job is None:
                failed += 1
                print(
                    f"error: job {job_id} does not exist or is running right now; not dropped",
                    file=sys.stderr,
                )
                continue
            print(f"dropped job {job.id} ({job.kind}, {job.state}, {job.attempts} attempts)")
    finally:
        await store.close()
    if len(ids) > failed:
        print(f"recorded in the audit trail as {actor} (empfang audit verify checks it)")
    return 1 if failed else 0


async def _status(path: StoreLocation) -> list[str]:
    store = await Store.open(path)
    try:
        now = store.clock.now()
        async with store.transaction() as tx:
            depths = await tx.jobs.depths()
            oldest = await tx.jobs.oldest_pending()
            view = OpsView(tx.conn)
            last_webhook = await view.last_webhook()
            alerts = await view.active_alerts()
            closing, unanswered = await view.windows_closing(
                now=now, window=SERVICE_WINDOW_SECONDS, within=3600.0
            )
    finally:
        await store.close()
    lines = [f"Empfang status at {when(now, now).split(' (')[0]}, store {path}", "", "jobs:"]
    by_kind: dict[str, dict[str, int]] = {}
    for kind, state, count in depths:
        by_kind.setdefault(kind, {})[state] = count
    for kind, counts in sorted(by_kind.items()):
        lines.append(
            f"  {kind:<15} pending {counts.get('pending', 0):>6}   dead {counts.get('dead', 0):>6}"
        )
    if not by_kind:
        lines.append("  none queued")
    dead = sum(counts.get("dead", 0) for counts in by_kind.values())
    lines += [
        "",
        f"oldest pending job:   {when(oldest, now) if oldest is not None else 'none'}",
        f"dead letters:         {dead}" + (" (empfang jobs list --dead)" if dead else ""),
        "last webhook:         "
        + (when(last_webhook, now) if last_webhook is not None else "none stored yet"),
        f"chat platform:        {_chat_state(alerts, now)}",
        "active alerts:        "
        + (", ".join(f"{kind} since {when(since, now)}" for kind, since in alerts) or "none"),
        f"windows closing within the next hour: {closing} ({unanswered} unanswered)",
    ]
    return lines


def _chat_state(alerts: list[tuple[str, float]], now: float) -> str:
    """With Matrix and Slack in one process each platform's outage is its own alert
    (``chat_unreachable.slack``), named here by its platform."""
    down = []
    for kind, since in alerts:
        if kind == CHAT_UNREACHABLE:
            down.append(f"unreachable since {when(since, now)}")
        elif kind.startswith(f"{CHAT_UNREACHABLE}."):
            platform = kind.removeprefix(f"{CHAT_UNREACHABLE}.")
            down.append(f"{platform} unreachable since {when(since, now)}")
    return (
        "; ".join(down)
        or "no outage recorded (the bot records one after alerts.platform_down_after)"
    )
