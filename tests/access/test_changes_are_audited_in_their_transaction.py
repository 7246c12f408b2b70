"""A change and its audit entry commit together; a refused change is recorded as refused and
its error goes on; a denial is recorded as denied."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.commands import operations
from controller.commands.audited import audited, denied
from controller.db import Database
from controller.models import Stack
from controller.models.audit import Actor, AuditResult, Surface, authored
from controller.models.errors import NotFoundError

ALICE = Actor(who="alice", who_kind="user", surface=Surface.API, address="127.0.0.1")


def test_a_sync_and_its_entry_commit_together(db_path: Path):
    with Database(db_path=db_path) as db:
        db.stacks.create(Stack(stack_id="shop", name="shop"))
        command = audited(db, ALICE, "sync", lambda: operations.sync(db, "shop"), stack_id="shop")
        [entry] = db.audit.list().items
        assert (entry.who, entry.action, entry.stack_id) == ("alice", "sync", "shop")
        assert entry.command_id == command.command_id and entry.result is AuditResult.OK


def test_a_refused_change_is_recorded_and_its_error_goes_on(db_path: Path):
    with Database(db_path=db_path) as db:
        with pytest.raises(NotFoundError):
            audited(db, ALICE, "sync", lambda: operations.sync(db, "nope"), stack_id="nope")
        [entry] = db.audit.list().items
        assert entry.result is AuditResult.REFUSED and "nope" in (entry.detail or "")
        assert db.commands.list().items == []


def test_a_denial_is_recorded(db_path: Path):
    with Database(db_path=db_path) as db:
        denied(db, ALICE, "sync", "operator on team=shop only", stack_id="billing")
        [entry] = db.audit.list().items
        assert entry.result is AuditResult.DENIED and entry.stack_id == "billing"


def test_a_version_names_the_same_identity():
    assert authored("stackctl rollback", ALICE) == "stackctl rollback by alice"
    assert authored("stackctl watcher", None) == "stackctl watcher"
