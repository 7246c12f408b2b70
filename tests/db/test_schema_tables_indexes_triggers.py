"""The schema has the tables, columns, indexes, constraints and pragmas the queue's rules rely on.

Those rules: docs/architecture.md, "The queue's rules".
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from controller.db import Database
from controller.db.schema import SCHEMA_VERSION
from controller.models import CommandStatus


def catalog(path: Path, kind: str) -> set[str]:
    conn = sqlite3.connect(path)
    return {
        row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
    }


def test_tables_exist(db: Database, db_path: Path):
    assert {
        "stacks",
        "stack_versions",
        "commands",
        "command_logs",
        "events",
        "blobs",
        "outbox",
        "deliveries",
        "notify_state",
    } <= catalog(db_path, "table")


@pytest.mark.parametrize(
    "index",
    [
        "idx_stack_versions_stack_id",
        "idx_commands_stack_id",
        "idx_commands_status",
        "idx_commands_created_at",
        "idx_command_logs_command_id",
        "idx_commands_claim",
        "idx_commands_one_running_per_stack",
    ],
)
def test_index_exists(db: Database, db_path: Path, index: str):
    assert index in catalog(db_path, "index")


def test_triggers_exist(db: Database, db_path: Path):
    assert {"stack_versions_immutable", "commands_terminal_is_final"} <= catalog(db_path, "trigger")


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        (
            "stacks",
            {
                "stack_id",
                "name",
                "current_version",
                "applied_version",
                "sync_status",
                "health_status",
                "suspended",
                "pinned",
                "last_error",
                "created_at",
                "updated_at",
            },
        ),
        (
            "stack_versions",
            {
                "stack_id",
                "version",
                "version_number",
                "parent_version",
                "digest",
                "compose_spec",
                "metadata",
                "created_at",
                "status",
                "runtime",
                "healthy_at",
                "engine",  # schema 12
                "suspend_declared",  # schema 12
            },
        ),
        (
            "commands",
            {
                "command_id",
                "stack_id",
                "type",
                "payload",
                "status",
                "created_at",
                "started_at",
                "ended_at",
                "attempts",
                "not_before",
                "worker_id",
                "lease_expires_at",
                "error",
                "cancel_requested",
                "failures",
            },
        ),
        ("command_logs", {"log_id", "command_id", "ts", "level", "message", "data"}),
        ("events", {"event_id", "stack_id", "ts", "level", "reason", "message", "data"}),
    ],
)
def test_columns(db: Database, db_path: Path, table: str, columns: set[str]):
    conn = sqlite3.connect(db_path)
    assert {row[1] for row in conn.execute(f"PRAGMA table_info({table})")} == columns


def test_pragmas(db: Database, db_path: Path):
    with db.reading() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.schema_version == SCHEMA_VERSION


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stacks SET sync_status = 'Confused'",
        "UPDATE stacks SET health_status = 'Fine'",
        "INSERT INTO command_logs (command_id, ts, level, message) VALUES (1, 'x', 'LOUD', 'm')",
        "INSERT INTO events (ts, level, reason, message) VALUES ('x', 'NOISY', 'R', 'm')",
        "INSERT INTO commands (stack_id, type, status, created_at) VALUES ('shop', 'APPLY', "
        "'PENDING', 'x')",
        "INSERT INTO commands (stack_id, type, status, created_at) VALUES ('shop', 'RECONCILE', "
        "'WAITING', 'x')",
    ],
)
def test_check_constraints_refuse_unknown_values(db: Database, make_stack, statement: str):
    make_stack("shop")
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
        conn.execute(statement)


def test_memory_database_is_supported():
    with Database(db_path=":memory:") as db:
        assert db.schema_version == SCHEMA_VERSION
        assert db.stacks.list() == []


def index_sql(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))


@pytest.mark.parametrize("index", ["idx_commands_claim", "idx_commands_stack_status"])
def test_the_queue_walks_index_pending_commands_only(db: Database, db_path: Path, index: str):
    """Schema 11 (issue 27): a finished command is in neither walk, so that claiming and
    completing change fewer index entries, in indexes as small as the backlog."""
    assert index_sql(db_path)[index].endswith("WHERE status = 'PENDING'")


def test_a_schema_10_queue_is_claimed_in_order_after_the_upgrade(tmp_path: Path):
    """A database written by schema 10 (full FIFO indexes) keeps its queue through migration 11:
    the oldest PENDING command of a stack that runs nothing is claimed first, FINISHED ones stay."""
    from controller.db.database import _statements
    from controller.db.schema import MIGRATIONS

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:10]:
        for statement in _statements(script):
            conn.execute(statement)
    now = "2026-01-01T00:00:00.000000Z"
    conn.execute("INSERT INTO stacks (stack_id, name, created_at, updated_at) VALUES"
                 " ('a', 'a', ?, ?), ('b', 'b', ?, ?)", (now,) * 4)
    conn.executemany(
        "INSERT INTO commands (stack_id, type, status, created_at) VALUES (?, 'RECONCILE', ?, ?)",
        [
            ("a", "DONE", "2026-01-01T00:00:01.000000Z"),
            ("a", "RUNNING", "2026-01-01T00:00:02.000000Z"),
            ("a", "PENDING", "2026-01-01T00:00:03.000000Z"),
            ("b", "PENDING", "2026-01-01T00:00:04.000000Z"),
            ("b", "PENDING", "2026-01-01T00:00:05.000000Z"),
        ],
    )
    conn.execute("PRAGMA user_version = 10")
    conn.close()
    with Database(db_path=path) as db:
        assert db.schema_version == SCHEMA_VERSION
        claimed = db.commands.claim(worker_id="w", limit=5)
        assert claimed is not None and claimed.command_id == 4
        assert db.commands.claim(worker_id="w", limit=5) is None  # a runs 2, b runs 4
        assert db.commands.get_next_pending().command_id == 3
        assert db.commands.count_by_status()[CommandStatus.DONE] == 1
    assert index_sql(path)["idx_commands_claim"].endswith("WHERE status = 'PENDING'")
