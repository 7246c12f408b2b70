"""Queue throughput on a file database, beside its peers in the same run.

Each contender is filled with N items (commands: RECONCILE over 100 stacks, so that superseding
does not shrink the queue), then drained by one process; a drain *cycle* takes one item and
marks it finished, durably:
- ours, the daemon's path: ``complete_and_claim`` with a batch of 1, one transaction a cycle
  (a worker thread finishes its command and claims its next in one commit: ``Worker._complete``);
- ours, single: ``claim`` + ``complete``, two write transactions a cycle;
- ours, batched: ``claim_batch`` then ``complete_and_claim`` K at a time, one transaction a batch
  (leases, per-stack FIFO, one RUNNING per stack, acks and the history all kept);
- huey's ``SqliteStorage``: ``dequeue`` (select + delete, one transaction; no lease, no ack: a
  consumer that dies after it loses the task);
- persist-queue's ``SQLiteAckQueue``: ``get`` + ``ack`` (two commits, no lease);
- a bare SQLite floor: one ``UPDATE ... RETURNING`` a cycle (and K a transaction) on a
  two-column table, the least any durable SQLite queue can do.
Every contender runs in WAL mode at the same ``synchronous`` level. Rounds rotate the order;
the summary gives medians and our ratio to huey per round (the machine's noise is shared
within a round). ``--workers 2`` adds ours drained by two processes. ``--engine-limit N`` gives
our claims a per-engine limit of N on ``local`` (every bench stack's engine; issue 16), to
measure what the per-engine counting costs; N at least the claim's limit never binds.

Run: ``.venv/bin/pip install -e '.[bench]'`` once, then
``.venv/bin/python bench/queue.py [--commands N] [--rounds R] [--batch K] [--synchronous ...]
[--engine-limit N]``.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named queue.py (as the issue asks), which shadows the standard library's ``queue``
# that multiprocessing needs: drop the script's own folder from the import path first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import multiprocessing
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from controller.db import Database
from controller.models import Command, CommandStatus, Stack

STACKS = 100
DAEMON = "ours daemon path K=1"


@dataclass(frozen=True)
class Figures:
    fill: float  # items enqueued per second
    drain: float  # take-and-finish cycles per second


Contender = Callable[[Path, int, str, int], Figures]


# -- ours ------------------------------------------------------------------------------------


def fill_ours(path: Path, *, commands: int, synchronous: str) -> float:
    with Database(db_path=path, synchronous=synchronous) as db:
        for s in range(STACKS):
            db.stacks.create(Stack(stack_id=f"stack-{s}", name=f"stack-{s}"))
        start = time.perf_counter()
        for n in range(commands):
            db.commands.enqueue(Command(stack_id=f"stack-{n % STACKS}", type="RECONCILE"))
        return commands / (time.perf_counter() - start)


def drain_ours(
    path: str, worker_id: str, limit: int, synchronous: str, batch: int, engine_limit: int = 0
) -> int:
    """Claim and complete until nothing is PENDING or RUNNING; ``batch`` 0: one at a time."""
    done = 0
    engines = {"local": engine_limit} if engine_limit else None
    with Database(db_path=path, synchronous=synchronous) as db:
        queue = db.commands
        claimed: list[Command] = []
        while True:
            if batch:
                finished = [c.command_id for c in claimed if c.command_id is not None]
                claimed = queue.complete_and_claim(
                    finished, worker_id=worker_id, limit=limit, batch=batch, engine_limits=engines
                ).claimed
                done += len(finished)
            else:
                one = queue.claim(worker_id=worker_id, limit=limit, engine_limits=engines)
                if one is not None and one.command_id is not None:
                    queue.complete(one.command_id, worker_id=worker_id)
                    done += 1
                claimed = [] if one is None else [one]
            if not claimed:
                counts = queue.count_by_status()
                if not counts.get(CommandStatus.PENDING) and not counts.get(CommandStatus.RUNNING):
                    return done


def ours(*, batch: int, workers: int = 1, engine_limit: int = 0) -> Contender:
    def run(folder: Path, commands: int, synchronous: str, _k: int) -> Figures:
        path = folder / "ours.db"
        fill = fill_ours(path, commands=commands, synchronous=synchronous)
        limit = workers * max(batch, 1)
        jobs = [
            (str(path), f"w{n}", limit, synchronous, batch, engine_limit) for n in range(workers)
        ]
        start = time.perf_counter()
        if workers == 1:
            done = [drain_ours(*jobs[0])]
        else:
            with multiprocessing.get_context("spawn").Pool(workers) as pool:
                done = pool.starmap(drain_ours, jobs)
        seconds = time.perf_counter() - start
        assert sum(done) == commands, (done, commands)
        return Figures(fill, commands / seconds)

    return run


# -- peers -----------------------------------------------------------------------------------


def huey_storage(folder: Path, commands: int, synchronous: str, _k: int) -> Figures:
    from huey.storage import SqliteStorage

    storage = SqliteStorage(name="bench", filename=str(folder / "huey.db"))
    storage.conn.execute(f"PRAGMA synchronous = {synchronous}")
    item = b"x" * 64  # a pickled task message is about this size
    start = time.perf_counter()
    for _ in range(commands):
        storage.enqueue(item)
    fill = commands / (time.perf_counter() - start)
    start = time.perf_counter()
    done = 0
    while storage.dequeue() is not None:
        done += 1
    seconds = time.perf_counter() - start
    storage.close()
    assert done == commands, (done, commands)
    return Figures(fill, commands / seconds)


def persist_ack_queue(folder: Path, commands: int, synchronous: str, _k: int) -> Figures:
    from persistqueue import SQLiteAckQueue

    queue = SQLiteAckQueue(str(folder / "persist"), auto_commit=True)
    # persist-queue sets WAL but leaves synchronous at SQLite's default; one connection here.
    queue._putter.execute(f"PRAGMA synchronous = {synchronous}")
    start = time.perf_counter()
    for n in range(commands):
        queue.put({"stack": f"stack-{n % STACKS}", "type": "RECONCILE"})
    fill = commands / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(commands):
        queue.ack(queue.get(block=False))
    seconds = time.perf_counter() - start
    queue.close()
    return Figures(fill, commands / seconds)


def bare_sqlite(folder: Path, commands: int, synchronous: str, batch: int) -> Figures:
    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, status TEXT NOT NULL, data BLOB)")
    conn.execute("CREATE INDEX q_status ON q (status, id)")
    start = time.perf_counter()
    for _ in range(commands):
        conn.execute("INSERT INTO q (status, data) VALUES ('PENDING', ?)", (b"x" * 64,))
    fill = commands / (time.perf_counter() - start)
    take = (
        "UPDATE q SET status = 'DONE' WHERE id IN (SELECT id FROM q WHERE status = 'PENDING'"
        " ORDER BY id LIMIT ?) RETURNING id, data"
    )
    start = time.perf_counter()
    done = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        rows = conn.execute(take, (batch,)).fetchall()
        conn.execute("COMMIT")
        if not rows:
            break
        done += len(rows)
    seconds = time.perf_counter() - start
    conn.close()
    assert done == commands, (done, commands)
    return Figures(fill, commands / seconds)


# -- the run ---------------------------------------------------------------------------------


def contenders(
    *, batch: int, workers: list[int], engine_limit: int = 0
) -> dict[str, tuple[Contender, int]]:
    """Name -> (contender, the K it is given)."""
    table: dict[str, tuple[Contender, int]] = {
        DAEMON: (ours(batch=1, engine_limit=engine_limit), 1),
        "ours single": (ours(batch=0, engine_limit=engine_limit), 1),
        f"ours batched K={batch}": (ours(batch=batch, engine_limit=engine_limit), batch),
        "huey SqliteStorage": (huey_storage, 1),
        "persist-queue AckQueue": (persist_ack_queue, 1),
        "bare SQLite, 1 a txn": (bare_sqlite, 1),
        f"bare SQLite, {batch} a txn": (bare_sqlite, batch),
    }
    for n in (w for w in workers if w > 1):
        table[f"ours single, {n} procs"] = (ours(batch=0, workers=n, engine_limit=engine_limit), 1)
        table[f"ours batched K={batch}, {n} procs"] = (
            ours(batch=batch, workers=n, engine_limit=engine_limit),
            batch,
        )
    return table


def available(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        print(f"({name} is not installed: .venv/bin/pip install -e '.[bench]'; skipped)")
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1])
    parser.add_argument("--synchronous", nargs="+", default=["FULL", "NORMAL"])
    parser.add_argument("--engine-limit", type=int, default=0, help="0: no per-engine limit")
    args = parser.parse_args()
    table = contenders(batch=args.batch, workers=args.workers, engine_limit=args.engine_limit)
    if not available("huey"):
        table.pop("huey SqliteStorage")
    if not available("persistqueue"):
        table.pop("persist-queue AckQueue")
    names = list(table)
    for synchronous in args.synchronous:
        results: dict[str, list[Figures]] = {name: [] for name in names}
        for round_ in range(args.rounds):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                contender, k = table[name]
                with tempfile.TemporaryDirectory() as tmp:
                    figures = contender(Path(tmp), args.commands, synchronous, k)
                results[name].append(figures)
                print(
                    f"synchronous={synchronous:<6} round {round_ + 1}  {name:<30}"
                    f" fill {figures.fill:8.0f}/s   drain {figures.drain:8.0f} cycles/s",
                    flush=True,
                )
        summarize(synchronous, results, batch=args.batch, commands=args.commands)


def summarize(synchronous: str, results: dict[str, list[Figures]], *, batch: int, commands: int):
    rounds = len(next(iter(results.values())))
    print(f"\nsynchronous={synchronous}: medians of {rounds} round(s), {commands} items each")
    for name, runs in results.items():
        fill = statistics.median(f.fill for f in runs)
        drain = statistics.median(f.drain for f in runs)
        print(f"  {name:<30} fill {fill:8.0f}/s   claim->DONE {drain:8.0f} cycles/s")
    huey = results.get("huey SqliteStorage")
    if huey:
        print("  ours / huey, the same round's ratio (median; each round):")
        for label, name, figure in (
            ("daemon path claim->DONE", DAEMON, "drain"),
            (f"batch {batch} claim->DONE", f"ours batched K={batch}", "drain"),
            ("single claim + complete", "ours single", "drain"),
            ("enqueue", DAEMON, "fill"),
        ):
            ratios = [
                getattr(o, figure) / getattr(h, figure)
                for o, h in zip(results[name], huey, strict=True)
            ]
            ours_ = statistics.median(getattr(f, figure) for f in results[name])
            hueys = statistics.median(getattr(f, figure) for f in huey)
            print(
                f"    {label:<24} {ours_:8.0f}/s vs huey {hueys:8.0f}/s:"
                f" {statistics.median(ratios):.2f}x  ({', '.join(f'{r:.2f}' for r in ratios)})"
            )
    print()


if __name__ == "__main__":
    main()
