"""``stackctl run`` keeps its database bounded: its retention thread deletes the finished
commands (and their log lines) its policy no longer keeps, without any command line help."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from controller.backends.docker import Engine
from controller.daemon import compaction as daemon
from controller.daemon.process import Controller, DaemonOptions
from controller.db import Database, RetentionPolicy
from controller.models import Command, CommandType, Stack


def test_the_controller_compacts_old_finished_commands(
    tmp_path: Path, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setattr(daemon, "COMPACT_FIRST", 0.2)
    path = tmp_path / "state" / "stackctl.db"
    path.parent.mkdir()
    with Database(db_path=path, clock=clock) as db:  # months ago, by the fixture's clock
        db.stacks.create(Stack(stack_id="old", name="old"))
        for _ in range(30):
            command = db.commands.enqueue(
                Command(stack_id="old", type=CommandType.RECONCILE, created_at=db.clock())
            )
            db.commands.claim(worker_id="w")
            db.command_logs.add(command.command_id, "INFO", "done")
            db.commands.complete(command.command_id)
        kept = [c.command_id for c in db.commands.list(stack_id="old", limit=10).items]
    root = tmp_path / "manifests"
    root.mkdir()
    controller = Controller(
        DaemonOptions(manifests=root, db=path, allow_empty=True,
                      retention=RetentionPolicy(keep_commands=10, keep_days=7)),
        engine=Engine(timeout=2),
    )
    ready, codes = threading.Event(), []
    runner = threading.Thread(target=lambda: codes.append(controller.run(on_ready=ready.set)))
    runner.start()
    try:
        assert ready.wait(30)
        deadline = time.monotonic() + 30
        while len(controller.db.commands.list(stack_id="old", limit=100).items) > 10:
            assert time.monotonic() < deadline, "the old commands were not compacted"
            time.sleep(0.1)
        left = controller.db.commands.list(stack_id="old", limit=100).items
        assert [c.command_id for c in left] == kept  # the newest ten, with their logs
        assert all(controller.db.command_logs.list(c.command_id) for c in left)
    finally:
        controller.stop.set()
        runner.join(timeout=60)
    assert codes == [0]
