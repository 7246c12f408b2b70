"""Many suspended stacks and the resync (issue 24, item 1).

N stacks whose manifests say ``suspend: true``, recorded and never applied (what the watcher
leaves), then R resync rounds, each followed by one worker draining the queue, as the
controller's single worker would between two rounds. Per round it prints the commands the round
queued, the database's growth (file and write-ahead log), the round's CPU and wall time, and
the drain's wall time: the time a new ordinary stack's command would wait behind them. The issue
saw, with 10,000 such stacks, a queue that never drained, 70 MB of growth in 12 minutes and a
new stack waiting 87 s.

Needs the engine (the rounds observe it; the drained commands observe each stack). Nothing is
created on the engine (the stacks are suspended). Run:
``.venv/bin/python bench/suspended.py [--stacks N] [--rounds R]``. Prints figures; asserts
nothing about time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/queue.py would shadow the standard library's queue: drop this folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import argparse
import functools
import secrets
import tempfile
import time

import yaml

from controller.backends.docker import Engine
from controller.commands.worker import Worker
from controller.db import Database
from controller.reconcile.reconciler import ReconcilerOptions
from controller.reconcile.resync import Resync
from controller.sources.loader import load_path
from controller.sources.versions import record_version

print = functools.partial(print, flush=True)  # figures must survive a kill


def manifest(name: str) -> str:
    service = {"image": "stackctl-test/busybox:1", "command": ["sleep", "3600"],
               "pull_policy": "never", "network_mode": "none"}
    return yaml.safe_dump({"apiVersion": "stackctl/v1", "kind": "Stack",
                           "metadata": {"name": name},
                           "spec": {"suspend": True, "compose": {"services": {"app": service}}}})


def size(db_path: Path) -> int:
    return sum(p.stat().st_size for p in (db_path, Path(f"{db_path}-wal")) if p.exists())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    prefix = f"bsus{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory() as tmp:
        root, db_path = Path(tmp) / "m", Path(tmp) / "stackctl.db"
        root.mkdir()
        names = [f"{prefix}-{n:05d}" for n in range(args.stacks)]
        for name in names:
            (root / f"{name}.yaml").write_text(manifest(name))
        loaded = load_path(root)
        with Database(db_path=db_path) as db:
            for name in names:
                record_version(db, loaded.stacks[name], root=root)
            engine = Engine()
            resync = Resync(db, engine)
            worker = Worker(db, engine, worker_id="bench", options=ReconcilerOptions(
                files_dir=Path(tmp) / "files"))
            print(f"{args.stacks} stacks suspended in their manifests, never applied;"
                  f" database {size(db_path) / 2**20:.1f} MiB")
            for number in range(1, args.rounds + 1):
                before = size(db_path)
                cpu, wall = time.process_time(), time.perf_counter()
                done = resync.round(names)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                drained, drain = 0, time.perf_counter()
                while worker.run_next() is not None:
                    drained += 1
                drain = time.perf_counter() - drain
                alone = getattr(done, "suspended", "?")  # "?": a stackctl before issue 24
                print(f"round {number}: {len(done.queued)} queued, {alone} suspended"
                      f" left alone; round {wall:.2f}s wall, {cpu:.2f}s CPU; drained"
                      f" {drained} commands in {drain:.1f}s (a new stack's wait);"
                      f" database +{(size(db_path) - before) / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
