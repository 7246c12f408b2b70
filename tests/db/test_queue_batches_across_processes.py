"""Batches with real processes on one file (issue 13, item 3): each command claimed once, never
two RUNNING per stack, each stack's commands in order, and a batch held by a worker killed with
SIGKILL comes back whole."""

from __future__ import annotations

import json
import signal
import time
from collections import defaultdict
from pathlib import Path

import pytest
from test_queue_concurrent_processes import spawn

from controller.db import Database
from controller.models import Command, CommandStatus, Stack


@pytest.mark.slow
def test_three_batching_processes_keep_every_queue_rule(db_path: Path):
    with Database(db_path=db_path) as db:
        for s in range(5):
            db.stacks.create(Stack(stack_id=f"s{s}", name=f"s{s}"))
        ids = [
            db.commands.enqueue(Command(stack_id=f"s{n % 5}", type="RECONCILE")).command_id
            for n in range(150)
        ]

    workers = [spawn(db_path, f"w{n}", "drain-batch", 6) for n in range(3)]
    claims = []
    for proc in workers:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        claims += [json.loads(line) for line in out.splitlines()]

    assert sorted(c["id"] for c in claims) == ids, "every command claimed exactly once"
    assert all(c["running"] == 1 for c in claims), "never two RUNNING commands for one stack"
    with Database(db_path=db_path) as db:
        assert db.commands.count_by_status() == {CommandStatus.DONE: 150}
        # Each claim's log line is written while its command runs, and a stack's next command
        # runs only after it: per stack, log order is FIFO order.
        with db.reading() as conn:
            rows = conn.execute(
                "SELECT c.stack_id, c.command_id FROM command_logs AS l"
                " JOIN commands AS c USING (command_id) ORDER BY l.log_id"
            ).fetchall()
    order: dict[str, list[int]] = defaultdict(list)
    for stack_id, command_id in rows:
        order[stack_id].append(command_id)
    assert all(handled == sorted(handled) for handled in order.values())
    assert sum(map(len, order.values())) == 150


@pytest.mark.slow
def test_a_batch_held_by_a_sigkilled_worker_comes_back(db_path: Path):
    with Database(db_path=db_path) as db:
        for name in ("a", "b", "c"):
            db.stacks.create(Stack(stack_id=name, name=name))
        queued = [
            db.commands.enqueue(Command(stack_id=name, type="RECONCILE")).command_id
            for name in ("a", "b", "c", "a")
        ]

    proc = spawn(db_path, "doomed", "hold-batch", 1.0)
    assert proc.stdout.readline().split() == [str(i) for i in queued[:3]]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    with Database(db_path=db_path) as db:
        assert db.commands.claim_batch(worker_id="survivor", limit=5, batch=5) == []
        deadline = time.monotonic() + 10
        while not (recovered := db.commands.recover_expired()):
            assert time.monotonic() < deadline, "the leases never expired"
            time.sleep(0.1)
        assert [c.command_id for c in recovered] == queued[:3]
        again = db.commands.claim_batch(worker_id="survivor", limit=5, batch=5)
        assert [c.command_id for c in again] == queued[:3]
        done, last = db.commands.complete_and_claim(
            queued[:3], worker_id="survivor", limit=5, batch=5
        )
        assert [c.attempts for c in done] == [2, 2, 2]
        assert [c.command_id for c in last] == queued[3:]
