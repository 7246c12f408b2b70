"""A recorded version always gets applied, and ``Synced`` never lies (issue 9, item 2).

The version was committed in one transaction and its APPLY in another: a kill in between left
DESIRED v2, APPLIED v1, SYNC Synced and nothing queued, for ever (the digest matched on
restart). Now both go in one transaction, every start queues an APPLY for a stack whose desired
version is not applied, and the database refuses ``Synced`` while they differ. No engine needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers.controller_process import ControllerProcess, wait_for

from controller.db import Database
from controller.models import CommandStatus, CommandType, StackMetadata, SyncStatus
from controller.sources.loader import load_path
from controller.sources.versions import record_and_enqueue, record_version


def write(root: Path, name: str, tag: str) -> None:
    manifest = {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name},
                "spec": {"compose": {"services": {"app": {"image": f"img:{tag}"}}}}}
    (root / f"{name}.yaml").write_text(yaml.safe_dump(manifest))


def test_recording_and_queueing_are_one_transaction(root, tmp_path, monkeypatch):
    write(root, "shop", "1")
    desired = load_path(root).stacks["shop"]
    with Database(db_path=tmp_path / "s.db") as db:
        def dies(*_a, **_k):
            raise RuntimeError("killed between the version and its APPLY")

        monkeypatch.setattr(db.commands, "enqueue", dies)
        with pytest.raises(RuntimeError):
            record_and_enqueue(db, desired, root=root, metadata=StackMetadata())
        assert db.stack_versions.latest("shop") is None  # nothing half-recorded
        monkeypatch.undo()
        recorded = record_and_enqueue(db, desired, root=root.absolute(), metadata=None)
        assert recorded.version is not None and recorded.command is not None
        assert recorded.command.type is CommandType.APPLY_STACK_VERSION


def test_synced_is_refused_while_desired_and_applied_differ(root, tmp_path):
    write(root, "shop", "1")
    with Database(db_path=tmp_path / "s.db") as db:
        record_version(db, load_path(root).stacks["shop"], root=root)
        db.stacks.update("shop", applied_version="v1", sync_status=SyncStatus.SYNCED)
        assert db.stacks.require("shop").sync_status is SyncStatus.SYNCED
        write(root, "shop", "2")
        record_version(db, load_path(root).stacks["shop"], root=root)
        stack = db.stacks.require("shop")
        assert (stack.current_version, stack.applied_version) == ("v2", "v1")
        assert stack.sync_status is SyncStatus.OUT_OF_SYNC
        db.stacks.update("shop", sync_status=SyncStatus.SYNCED)  # whoever writes it
        assert db.stacks.require("shop").sync_status is SyncStatus.OUT_OF_SYNC


def test_a_start_queues_the_apply_a_kill_lost(root, tmp_path, monkeypatch):
    """The state the old two-transaction watcher left after a kill: v2 recorded and current,
    v1 applied, no command. The next start queues an APPLY of v2."""
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")  # no engine: the APPLY waits
    db_path = tmp_path / "stackctl.db"
    with Database(db_path=db_path) as db:
        write(root, "shop", "1")
        record_version(db, load_path(root).stacks["shop"], root=root.absolute())
        db.stacks.update("shop", applied_version="v1", sync_status=SyncStatus.SYNCED)
        write(root, "shop", "2")
        record_version(db, load_path(root).stacks["shop"], root=root.absolute())
        assert not db.commands.list(stack_id="shop").items
    ctl = ControllerProcess(root, db_path).start()
    try:
        with ctl.db() as db:
            [command] = wait_for(lambda: db.commands.list(stack_id="shop").items,
                                 what="an APPLY of the unapplied version")
            assert command.type is CommandType.APPLY_STACK_VERSION
            assert command.status in (CommandStatus.PENDING, CommandStatus.RUNNING)
            assert command.payload["version"] == "v2"
            assert db.stacks.require("shop").sync_status is SyncStatus.OUT_OF_SYNC
    finally:
        assert ctl.stop() == 0
