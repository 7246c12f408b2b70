"""Every SQLite failure leaves ``Database`` as a project error: writes that fail (a full disk
for real, on a small tmpfs; the COMMIT; an I/O error; a busy file) are ``TransientError`` and
leave the connection usable; a corrupt file is ``PermanentError`` naming the path."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from helpers.small_disk import small_disk

from controller.db import Database
from controller.models import Event, LogLevel, Stack
from controller.models.errors import PermanentError, StackctlError, TransientError


def event(message: str = "x" * 200) -> Event:
    return Event(level=LogLevel.INFO, reason="Test", message=message)


def test_a_full_disk_is_transient_and_writes_resume_when_space_returns(tmp_path: Path) -> None:
    with (
        small_disk(tmp_path / "disk") as disk,
        Database(db_path=disk.path / "state" / "stackctl.db") as db,
    ):
        db.stacks.create(Stack(stack_id="shop", name="shop"))
        disk.fill()
        for write in (
            lambda: db.events.add(event()),
            lambda: db.stacks.create(Stack(stack_id="blog", name="blog")),
            lambda: db.stacks.update("shop", last_error="e" * 5000),
            db.probe_write,
        ):
            with pytest.raises(TransientError, match="disk full") as caught:
                write()
            assert isinstance(caught.value.__cause__, sqlite3.Error)
            assert not db._conn.in_transaction  # rolled back: the connection is usable
        assert db.stacks.require("shop").last_error is None  # reads still answer
        assert db.faults >= 4 and "database or disk is full" in (db.last_fault or "")
        disk.free()
        db.events.add(event("after"))
        db.stacks.create(Stack(stack_id="blog", name="blog"))
        db.probe_write()
        assert [s.name for s in db.stacks.list()] == ["blog", "shop"]


class FailingConnection:
    """The real connection, but the statements that match ``fail_on`` raise ``error``."""

    def __init__(self, conn: sqlite3.Connection, *, fail_on: str, error: sqlite3.Error) -> None:
        self._conn, self._fail_on, self._error = conn, fail_on, error

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith(self._fail_on):
            raise self._error
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@pytest.mark.parametrize(
    ("fail_on", "message", "what"),
    [
        ("COMMIT", "database or disk is full", "disk full"),
        ("COMMIT", "disk I/O error", "disk I/O error"),
        ("COMMIT", "database is locked", "busy"),
        ("INSERT", "disk I/O error", "disk I/O error"),
        ("BEGIN", "database is locked", "busy"),
        ("INSERT", "attempt to write a readonly database", "read-only"),
    ],
)
def test_a_failing_write_is_transient_and_rolled_back(
    db: Database, fail_on: str, message: str, what: str
) -> None:
    real = db._conn
    db._conn = FailingConnection(real, fail_on=fail_on, error=sqlite3.OperationalError(message))
    try:
        with pytest.raises(TransientError, match=what) as caught:
            db.events.add(event())
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert not real.in_transaction
    finally:
        db._conn = real
    db.events.add(event("then it works"))
    assert [e.message for e in db.events.list().items] == ["then it works"]


@pytest.mark.parametrize(
    ("error", "kind", "text"),
    [
        (sqlite3.OperationalError("disk I/O error"), TransientError, "disk I/O error"),
        (sqlite3.DatabaseError("database disk image is malformed"), PermanentError, "corrupt"),
        (sqlite3.OperationalError("database is locked"), TransientError, "busy"),
    ],
)
def test_a_failing_read_is_translated(
    db: Database, db_path: Path, error: sqlite3.Error, kind: type, text: str
) -> None:
    real = db._conn
    db._conn = FailingConnection(real, fail_on="SELECT", error=error)
    try:
        with pytest.raises(kind, match=text) as caught:
            db.stacks.list()
    finally:
        db._conn = real
    assert str(db_path) in str(caught.value)
    assert caught.value.__cause__ is error


def test_a_database_corrupted_while_open_is_permanent_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "stackctl.db"
    with Database(db_path=path) as db:
        for n in range(200):
            db.events.add(event(f"{n:04d}" + "x" * 500))
    with Database(db_path=path) as db:
        size = path.stat().st_size
        with path.open("r+b") as f:  # keep the header, garble every page after the schema
            f.seek(8192)
            f.write(b"\xa5" * (size - 8192))
        with pytest.raises(StackctlError) as caught:
            db.events.list(limit=500)
            db.probe_write()
    assert isinstance(caught.value, PermanentError)
    assert str(path) in str(caught.value) and "corrupt" in str(caught.value)
