"""Real processes on one database file: each command claimed once, never two RUNNING per stack,
and a worker killed with SIGKILL loses nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import queue_worker

from controller.db import Database
from controller.models import Command, CommandStatus, Stack

WORKER = Path(queue_worker.__file__)


def spawn(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_four_processes_claim_each_command_exactly_once(db_path: Path):
    with Database(db_path=db_path) as db:
        for s in range(5):
            db.stacks.create(Stack(stack_id=f"s{s}", name=f"s{s}"))
        ids = [
            db.commands.enqueue(Command(stack_id=f"s{n % 5}", type="RECONCILE")).command_id
            for n in range(300)
        ]

    workers = [spawn(db_path, f"w{n}", "drain", 4) for n in range(4)]
    claims = []
    for proc in workers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        claims += [json.loads(line) for line in out.splitlines()]

    claimed_ids = [c["id"] for c in claims]
    assert sorted(claimed_ids) == ids, "every command claimed exactly once"
    assert all(c["running"] == 1 for c in claims), "never two RUNNING commands for one stack"
    with Database(db_path=db_path) as db:
        assert db.commands.count_by_status() == {CommandStatus.DONE: 300}
        for command_id in ids[:10]:
            assert len(db.command_logs.list(command_id)) == 1


@pytest.mark.slow
def test_sigkilled_worker_loses_nothing(db_path: Path):
    with Database(db_path=db_path) as db:
        db.stacks.create(Stack(stack_id="shop", name="shop"))
        cmd = db.commands.enqueue(Command(stack_id="shop", type="APPLY_STACK_VERSION"))

    proc = spawn(db_path, "doomed", "hold", 1.0)
    assert proc.stdout.readline().strip() == str(cmd.command_id)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    with Database(db_path=db_path) as db:
        held = db.commands.require(cmd.command_id)
        assert (held.status, held.worker_id) == (CommandStatus.RUNNING, "doomed")
        assert db.commands.claim(worker_id="survivor") is None  # the stack is still busy
        deadline = time.monotonic() + 10
        while not db.commands.recover_expired():
            assert time.monotonic() < deadline, "the lease never expired"
            time.sleep(0.1)
        again = db.commands.claim(worker_id="survivor")
        assert again is not None and again.command_id == cmd.command_id
        assert again.attempts == 2  # two tries started, as its log shows
        db.commands.complete(cmd.command_id, worker_id="survivor")
        assert [c.command_id for c in db.commands.list().items] == [cmd.command_id]
        [log] = db.command_logs.list(cmd.command_id)
        assert "worker doomed stopped without finishing" in log.message
