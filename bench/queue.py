"""Queue throughput on a file database: enqueue/s and claim-to-DONE cycles/s.

10,000 RECONCILE commands over 100 stacks (RECONCILE, so that superseding does not shrink the
queue), drained by 1 and then 2 worker processes. Each cycle is claim + complete, two write
transactions. Run: ``.venv/bin/python bench/queue.py [--commands N] [--synchronous FULL|NORMAL]``.
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
import tempfile
import time

from controller.db import Database
from controller.models import Command, CommandStatus, Stack


def fill(path: Path, *, commands: int, stacks: int, synchronous: str) -> float:
    with Database(db_path=path, synchronous=synchronous) as db:
        for s in range(stacks):
            db.stacks.create(Stack(stack_id=f"stack-{s}", name=f"stack-{s}"))
        start = time.perf_counter()
        for n in range(commands):
            db.commands.enqueue(Command(stack_id=f"stack-{n % stacks}", type="RECONCILE"))
        return time.perf_counter() - start


def drain(path: str, worker_id: str, limit: int, synchronous: str) -> int:
    done = 0
    with Database(db_path=path, synchronous=synchronous) as db:
        while True:
            cmd = db.commands.claim(worker_id=worker_id, limit=limit)
            if cmd is None:
                counts = db.commands.count_by_status()
                if not counts.get(CommandStatus.PENDING) and not counts.get(CommandStatus.RUNNING):
                    return done
                continue
            db.commands.complete(cmd.command_id, worker_id=worker_id)
            done += 1


def run(*, commands: int, stacks: int, workers: int, synchronous: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        enqueue_seconds = fill(path, commands=commands, stacks=stacks, synchronous=synchronous)
        ctx = multiprocessing.get_context("spawn")
        start = time.perf_counter()
        with ctx.Pool(workers) as pool:
            done = pool.starmap(
                drain, [(str(path), f"w{n}", workers, synchronous) for n in range(workers)]
            )
        drain_seconds = time.perf_counter() - start
        assert sum(done) == commands, (done, commands)
        print(
            f"synchronous={synchronous:<6} workers={workers}  "
            f"enqueue {commands / enqueue_seconds:8.0f}/s   "
            f"claim->DONE {commands / drain_seconds:8.0f} cycles/s   "
            f"({commands} commands, {stacks} stacks; per worker {done})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--stacks", type=int, default=100)
    parser.add_argument("--synchronous", nargs="+", default=["FULL", "NORMAL"])
    args = parser.parse_args()
    for synchronous in args.synchronous:
        for workers in (1, 2):
            run(
                commands=args.commands, stacks=args.stacks, workers=workers, synchronous=synchronous
            )


if __name__ == "__main__":
    main()
