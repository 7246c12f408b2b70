"""``stackctl run``'s compaction thread prunes the audit log by its own age (``audit_days``):
an entry past it goes, one younger stays although it is far older than what the commands and
events keep."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from controller.backends.docker import Engine
from controller.daemon import compaction as daemon
from controller.daemon.process import Controller, DaemonOptions
from controller.db import Database, RetentionPolicy
from controller.models.audit import AuditEntry, AuditResult, Surface
from controller.models.timestamps import utc_now


def recorded(days_ago: int) -> AuditEntry:
    return AuditEntry(
        who="alice",
        who_kind="user",
        surface=Surface.API,
        action=f"sync {days_ago} days ago",
        result=AuditResult.OK,
        at=utc_now() - timedelta(days=days_ago),
    )


def test_the_controller_prunes_entries_older_than_audit_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setattr(daemon, "COMPACT_FIRST", 0.2)
    path = tmp_path / "state" / "stackctl.db"
    path.parent.mkdir()
    with Database(db_path=path) as db:
        for days in (400, 200, 31):
            db.audit.record(recorded(days))
    root = tmp_path / "manifests"
    root.mkdir()
    policy = RetentionPolicy(keep_days=7, event_days=30, audit_days=365)
    controller = Controller(
        DaemonOptions(manifests=root, db=path, allow_empty=True, retention=policy),
        engine=Engine(timeout=2),
    )
    ready, codes = threading.Event(), []
    runner = threading.Thread(target=lambda: codes.append(controller.run(on_ready=ready.set)))
    runner.start()
    try:
        assert ready.wait(30)
        deadline = time.monotonic() + 30
        while len(controller.db.audit.list().items) > 2:
            assert time.monotonic() < deadline, "the old entry was not pruned"
            time.sleep(0.1)
        left = [e.action for e in controller.db.audit.list().items]
        assert left == ["sync 31 days ago", "sync 200 days ago"]
    finally:
        controller.stop.set()
        runner.join(timeout=60)
    assert codes == [0]
