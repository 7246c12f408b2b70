"""A worker process for the concurrency tests (run as a script, not collected by pytest).

``queue_worker.py DB WORKER_ID drain LIMIT``: claim until the queue is empty; print one JSON line
per claim with the number of RUNNING commands its stack had at that moment.
``queue_worker.py DB WORKER_ID hold LEASE``: claim one command, print its id, then hang (to be
killed).
``queue_worker.py DB WORKER_ID drain-batch LIMIT``: as ``drain``, three commands a transaction
(``claim_batch``/``complete_and_claim``).
``queue_worker.py DB WORKER_ID hold-batch LEASE``: claim a batch of up to five, print their ids
on one line, then hang.
"""

from __future__ import annotations

import json
import sys
import time

from controller.db import Database


def drain(db: Database, worker_id: str, limit: int) -> None:
    idle_since = time.monotonic()
    while time.monotonic() - idle_since < 2.0:
        cmd = db.commands.claim(worker_id=worker_id, lease_seconds=60, limit=limit)
        if cmd is None:
            time.sleep(0.005)
            continue
        idle_since = time.monotonic()
        with db.reading() as conn:
            running = conn.execute(
                "SELECT COUNT(*) FROM commands WHERE stack_id = ? AND status = 'RUNNING'",
                (cmd.stack_id,),
            ).fetchone()[0]
        db.command_logs.add(cmd.command_id, "INFO", f"handled by {worker_id}")
        db.commands.complete(cmd.command_id, worker_id=worker_id)
        print(json.dumps({"id": cmd.command_id, "stack": cmd.stack_id, "running": running}))
        sys.stdout.flush()


def drain_batch(db: Database, worker_id: str, limit: int) -> None:
    idle_since = time.monotonic()
    claimed: list[int] = []
    while time.monotonic() - idle_since < 2.0:
        batch = db.commands.complete_and_claim(
            claimed, worker_id=worker_id, lease_seconds=60, limit=limit, batch=3
        ).claimed
        claimed = [cmd.command_id for cmd in batch]
        if not batch:
            time.sleep(0.005)
            continue
        idle_since = time.monotonic()
        for cmd in batch:
            with db.reading() as conn:
                running = conn.execute(
                    "SELECT COUNT(*) FROM commands WHERE stack_id = ? AND status = 'RUNNING'",
                    (cmd.stack_id,),
                ).fetchone()[0]
            db.command_logs.add(cmd.command_id, "INFO", f"handled by {worker_id}")
            print(json.dumps({"id": cmd.command_id, "stack": cmd.stack_id, "running": running}))
        sys.stdout.flush()


def hold_batch(db: Database, worker_id: str, lease: float) -> None:
    batch = db.commands.claim_batch(worker_id=worker_id, lease_seconds=lease, limit=5, batch=5)
    print(" ".join(str(cmd.command_id) for cmd in batch) or "none", flush=True)
    time.sleep(3600)


def hold(db: Database, worker_id: str, lease: float) -> None:
    cmd = db.commands.claim(worker_id=worker_id, lease_seconds=lease)
    print(cmd.command_id if cmd else "none", flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    path, worker, mode, arg = sys.argv[1:5]
    with Database(db_path=path) as database:
        {
            "drain": lambda: drain(database, worker, int(arg)),
            "hold": lambda: hold(database, worker, float(arg)),
            "drain-batch": lambda: drain_batch(database, worker, int(arg)),
            "hold-batch": lambda: hold_batch(database, worker, float(arg)),
        }[mode]()
