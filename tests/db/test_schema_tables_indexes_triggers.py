"""The schema has the tables, columns, indexes, constraints and pragmas the queue's rules rely on.

Those rules: docs/architecture.md, "The queue's rules".
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from controller.db import Database
from controller.db.schema import SCHEMA_VERSION


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
