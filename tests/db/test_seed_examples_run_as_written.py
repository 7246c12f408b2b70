"""The two examples this project started from run exactly as written.

Only ``app.`` became ``controller.`` in the imports; this file is excluded from ruff so that the
examples keep their original layout.
"""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import pytest

# datetime.utcnow() is deprecated on 3.12+; the seed uses it and must keep working.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def run_first_example() -> None:
    from controller.db.database import Database
    from controller.models.stack import Stack
    from controller.models.stack_version import StackVersion, StackMetadata, ComposeDefinition
    from datetime import datetime

    with Database(db_path="storage/core-monitor.db") as db:
        stack = Stack(stack_id="app-001", name="my-app", current_version=None)
        db.stacks.create(stack)
        version = StackVersion(
            stack_id="app-001",
            version="v1",
            parent_version=None,
            metadata=StackMetadata(created_at=datetime.utcnow(), created_by="admin", comment="Initial version"),
            compose=ComposeDefinition(version="3.8", services={"web": {"image": "nginx:latest"}}),
        )
        db.stack_versions.create(version)


def run_second_example() -> None:
    from controller.db.database import Database
    from datetime import datetime
    from controller.models.command import Command

    with Database(db_path="storage/core-monitor.db") as db:
        cmd = Command(stack_id="app-001", type="APPLY_STACK_VERSION", payload={"version": "v1"},
                      status="PENDING", created_at=datetime.utcnow())
        db.commands.enqueue(cmd)
        next_cmd = db.commands.get_next_pending()
        if next_cmd:
            db.commands.update_status(next_cmd.command_id, "RUNNING", started_at=datetime.utcnow())
            db.command_logs.add_log(next_cmd.command_id, "INFO", "Processing...")
            db.commands.update_status(next_cmd.command_id, "DONE", ended_at=datetime.utcnow())


def test_seed_examples_leave_the_expected_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        run_first_example()
        run_second_example()

    conn = sqlite3.connect(tmp_path / "storage" / "core-monitor.db")
    assert conn.execute("SELECT stack_id, name, current_version FROM stacks").fetchall() == [
        ("app-001", "my-app", "v1")
    ]
    assert conn.execute("SELECT version, parent_version FROM stack_versions").fetchall() == [
        ("v1", None)
    ]
    assert conn.execute(
        "SELECT type, status, payload, started_at IS NOT NULL, ended_at IS NOT NULL FROM commands"
    ).fetchall() == [("APPLY_STACK_VERSION", "DONE", '{"version":"v1"}', 1, 1)]
    assert conn.execute("SELECT level, message FROM command_logs").fetchall() == [
        ("INFO", "Processing...")
    ]
