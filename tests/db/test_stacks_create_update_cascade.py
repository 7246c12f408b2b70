"""Stacks: create, read, update status, and delete taking versions, commands and logs along."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from controller.db import Database
from controller.models import (
    Command,
    ComposeDefinition,
    Event,
    HealthStatus,
    Stack,
    StackVersion,
    SyncStatus,
)
from controller.models.errors import ConflictError, NotFoundError


def test_duplicate_stack_is_a_clear_error_and_keeps_the_first(db: Database):
    db.stacks.create(Stack(stack_id="shop", name="first"))
    with pytest.raises(ConflictError, match="stack 'shop' already exists"):
        db.stacks.create(Stack(stack_id="shop", name="second"))
    assert db.stacks.require("shop").name == "first"


def test_update_changes_only_what_is_given(db: Database, make_stack):
    make_stack("shop")
    updated = db.stacks.update(
        "shop", sync_status=SyncStatus.SYNCED, health_status=HealthStatus.HEALTHY
    )
    assert (updated.sync_status, updated.health_status) == ("Synced", "Healthy")
    again = db.stacks.update("shop", applied_version="v1", pinned=True)
    assert (again.sync_status, again.applied_version, again.pinned) == ("Synced", "v1", True)
    assert again.updated_at > updated.updated_at
    # Suspended, it reads Suspended (issue 24); the row keeps what was observed for its resume.
    held = db.stacks.update("shop", suspended=True)
    assert (held.suspended, held.suspended_by, held.sync_status, held.health_status) == (
        True, ("operator",), "Suspended", "Suspended")
    with db.reading() as conn:
        row = conn.execute("SELECT sync_status, health_status FROM stacks").fetchone()
    assert tuple(row) == ("Synced", "Healthy")
    resumed = db.stacks.update("shop", suspended=False)
    assert (resumed.suspended, resumed.sync_status) == (False, "Synced")
    with pytest.raises(ConflictError):  # read, never stored
        db.stacks.update("shop", sync_status=SyncStatus.SUSPENDED)


def test_update_of_unknown_stack_or_bad_status_is_refused(db: Database, make_stack):
    with pytest.raises(NotFoundError):
        db.stacks.update("ghost", suspended=True)
    make_stack("shop")
    with pytest.raises(ConflictError):
        db.stacks.update("shop", sync_status="Confused")
    assert db.stacks.require("shop").sync_status is SyncStatus.UNKNOWN


def test_naive_datetimes_are_taken_as_utc(db: Database):
    stack = db.stacks.create(Stack(stack_id="shop", name="shop", created_at=datetime(2026, 5, 1)))
    assert stack.created_at.tzinfo is not None
    assert db.stacks.require("shop").created_at.isoformat() == "2026-05-01T00:00:00+00:00"


def test_delete_cascades_to_versions_commands_and_logs(db: Database, db_path: Path, make_stack):
    make_stack("shop")
    make_stack("blog")
    for stack_id in ("shop", "blog"):
        db.stack_versions.create(
            StackVersion(stack_id=stack_id, compose=ComposeDefinition(services={}))
        )
        cmd = db.commands.enqueue(Command(stack_id=stack_id, type="RECONCILE"))
        db.command_logs.add(cmd.command_id, "INFO", "hello")
    db.events.add(Event(stack_id="shop", reason="Recorded", message="kept after delete"))

    db.stacks.delete("shop")

    conn = sqlite3.connect(db_path)
    for table in ("stack_versions", "commands"):
        assert conn.execute(f"SELECT DISTINCT stack_id FROM {table}").fetchall() == [("blog",)]
    assert conn.execute("SELECT COUNT(*) FROM command_logs").fetchone() == (1,)
    # Events are the audit trail: they outlive the stack.
    assert conn.execute("SELECT stack_id FROM events").fetchall() == [("shop",)]
    with pytest.raises(NotFoundError):
        db.stacks.delete("shop")


def test_events_list_newest_first_with_pagination(db: Database):
    for n in range(5):
        db.events.add(Event(stack_id="shop", reason="Tick", message=f"tick {n}"))
    db.events.add(Event(stack_id=None, reason="ControllerStarted", message="global"))
    first = db.events.list(stack_id="shop", limit=3)
    assert [e.message for e in first.items] == ["tick 4", "tick 3", "tick 2"]
    second = db.events.list(stack_id="shop", limit=3, cursor=first.next_cursor)
    assert [e.message for e in second.items] == ["tick 1", "tick 0"]
    assert second.next_cursor is None
    assert len(db.events.list().items) == 6


def test_event_reason_must_be_camel_case():
    with pytest.raises(ValueError, match="CamelCase"):
        Event(reason="manifest invalid", message="x")


def test_log_to_unknown_command_is_a_clear_error(db: Database):
    with pytest.raises(NotFoundError, match="no such command"):
        db.command_logs.add(42, "INFO", "lost?")
