"""The database's size under periodic resyncs, with and without retention (issue 13, item 2).

Simulates ``--days`` of resyncs of ``--stacks`` stacks on a clock the script moves: every
simulated minute each stack gets a RECONCILE, run through the queue's real API (enqueue, claim,
three log lines, complete), and each stack an event every six hours. Run once without
compaction and once with ``db.retention.compact`` every simulated hour (the default policy
unless ``--keep-days``/``--keep-commands`` say otherwise), printing per simulated day the file
size, its free pages and the row counts. The default policy keeps 7 days, so its curve bends
after day 7: hence ``--days 10``. Then the database that grew without compaction is compacted
once, at ``synchronous=FULL`` as the controller runs, to show how long each transaction holds
the write lock while catching up on a backlog.

Run: ``.venv/bin/python bench/retention.py [--stacks N] [--days N] [--keep-days D]``. Writes at
``synchronous=OFF`` while simulating (same pages, no fsync wait). Prints figures; asserts
nothing about time. About 500 commands a second here: the defaults take a few minutes.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from controller.db import Database, RetentionPolicy
from controller.models import Command, CommandType, Event, LogLevel, Stack

START = datetime(2026, 1, 1, tzinfo=UTC)
MIB = 1024 * 1024
# What a resync's RECONCILE of an unchanged stack logs (the reconciler's lines, roughly).
LINES = (
    "claimed by worker controller-1/w0 (attempt 1)",
    "observed 3 containers, 1 network, 1 volume of stack {stack} (labels io.stackctl.managed)",
    "{stack} v3: in sync, nothing to do",
)


class SimulatedClock:
    """The minute being simulated, plus a microsecond per reading so that order is strict."""

    def __init__(self) -> None:
        self.minute = START
        self._ticks = 0

    def __call__(self) -> datetime:
        self._ticks += 1
        return self.minute + timedelta(microseconds=self._ticks)

    def set_minute(self, minute: int) -> None:
        self.minute, self._ticks = START + timedelta(minutes=minute), 0


@dataclass
class Locks:
    """The write lock held by compaction transactions during a run."""

    compactions: int = 0
    transactions: int = 0
    longest: float = 0.0
    seconds: float = 0.0  # wall time spent in compact(), pauses between batches included


def simulate(
    path: Path, *, stacks: int, days: int, policy: RetentionPolicy | None, locks: Locks
) -> None:
    clock = SimulatedClock()
    names = [f"stack-{n:03d}" for n in range(stacks)]
    print(f"\n{'with' if policy else 'without'} compaction{f' ({policy})' if policy else ''}")
    print(
        f"{'day':>4} {'file MiB':>9} {'free MiB':>9} {'wal MiB':>8} {'commands':>9}"
        f" {'log rows':>9} {'events':>7} {'deleted':>8} {'sim s':>6}"
    )
    with Database(db_path=path, clock=clock, synchronous="OFF") as db:
        for name in names:
            db.stacks.create(Stack(stack_id=name, name=name))
        deleted, started = 0, time.perf_counter()
        for minute in range(days * 24 * 60):
            clock.set_minute(minute)
            resync(db, names)
            if minute % 360 == 0:
                for name in names:
                    db.events.add(Event(stack_id=name, ts=clock(), reason="Resynced", message="ok"))
            if policy is not None and minute % 60 == 59:
                began = time.perf_counter()
                result = db.retention.compact(policy)
                locks.seconds += time.perf_counter() - began
                locks.compactions += 1
                locks.transactions += result.transactions
                locks.longest = max(locks.longest, result.longest_transaction_s)
                deleted += result.commands
            if minute % (24 * 60) == 24 * 60 - 1:
                report(db, path, day=minute // (24 * 60) + 1, deleted=deleted, started=started)


def resync(db: Database, names: list[str]) -> None:
    """One resync pass: a RECONCILE per stack, each claimed, logged and completed."""
    for name in names:
        db.commands.enqueue(
            Command(
                stack_id=name,
                type=CommandType.RECONCILE,
                payload={"reason": "resync"},
                created_at=db.clock(),
            )
        )
    for _ in names:
        command = db.commands.claim(worker_id="controller-1/w0", limit=len(names))
        assert command is not None and command.command_id is not None
        for line in LINES:
            db.command_logs.add(
                command.command_id, LogLevel.INFO, line.format(stack=command.stack_id)
            )
        db.commands.complete(command.command_id, worker_id="controller-1/w0")


def report(db: Database, path: Path, *, day: int, deleted: int, started: float) -> None:
    space, rows = db.retention.space(), db.retention.counts()
    wal = Path(f"{path}-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    print(
        f"{day:>4} {space.file_bytes / MIB:>9.1f} {space.free_bytes / MIB:>9.1f}"
        f" {wal_bytes / MIB:>8.1f} {rows['commands']:>9} {rows['command_logs']:>9}"
        f" {rows['events']:>7} {deleted:>8} {time.perf_counter() - started:>6.0f}"
    )


def catch_up(path: Path, *, days: int, policy: RetentionPolicy) -> None:
    """The database that grew unbounded, compacted once at synchronous=FULL: the backlog."""
    end = START + timedelta(days=days)
    with Database(db_path=path, clock=lambda: end) as db:
        before = db.retention.space()
        began = time.perf_counter()
        result = db.retention.compact(policy)
        seconds = time.perf_counter() - began
        after = db.retention.space()
    print(
        f"\ncatching up ({policy}, synchronous=FULL) on the database that grew without"
        f" compaction: {result.commands} commands, {result.command_logs} log rows,"
        f" {result.events} events deleted in {result.transactions} transactions of at most"
        f" 500 commands; longest transaction {result.longest_transaction_s * 1000:.1f} ms;"
        f" {seconds:.1f} s in all (half of it waiting between batches);"
        f" file {before.file_bytes / MIB:.1f} MiB, of which {after.free_bytes / MIB:.1f} MiB"
        " now free (reused before the file grows)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=2)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--keep-days", type=float, default=RetentionPolicy().keep_days)
    parser.add_argument("--keep-commands", type=int, default=RetentionPolicy().keep_commands)
    args = parser.parse_args()
    policy = RetentionPolicy(keep_commands=args.keep_commands, keep_days=args.keep_days)
    print(
        f"{args.stacks} stacks, a RECONCILE per stack per simulated minute with"
        f" {len(LINES)} log lines, {args.days} simulated days; compaction every simulated hour"
    )
    with tempfile.TemporaryDirectory() as tmp:
        unbounded, bounded = Path(tmp) / "without.db", Path(tmp) / "with.db"
        simulate(unbounded, stacks=args.stacks, days=args.days, policy=None, locks=Locks())
        locks = Locks()
        simulate(bounded, stacks=args.stacks, days=args.days, policy=policy, locks=locks)
        print(
            f"hourly compactions: {locks.compactions}, {locks.transactions} transactions,"
            f" longest {locks.longest * 1000:.1f} ms (synchronous=OFF),"
            f" {locks.seconds / max(locks.compactions, 1) * 1000:.1f} ms per compaction"
        )
        catch_up(unbounded, days=args.days, policy=policy)
        size = os.path.getsize(unbounded)
        print(f"without.db on disk after catching up: {size / MIB:.1f} MiB (it does not shrink)")


if __name__ == "__main__":
    main()
