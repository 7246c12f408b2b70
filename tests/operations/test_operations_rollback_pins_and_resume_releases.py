"""The shared actions on a real database file: rollback records and pins, the pin holds file
changes back, resume releases them; suspend and sync only enqueue (sync coalesces)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.seeding import desired, record

from controller.commands import operations
from controller.db import Database
from controller.models import CommandStatus, CommandType
from controller.models.errors import ConflictError, NotFoundError
from controller.sources.versions import record_version

V1, V2 = "stackctl-test/busybox:1", "stackctl-test/busybox:2"


@pytest.fixture
def shop(db: Database, tmp_path: Path) -> str:
    record(db, tmp_path, "shop", V1, applied=True)
    record(db, tmp_path, "shop", V2, applied=True)
    return "shop"


def test_rollback_records_the_last_applied_older_spec_as_a_new_pinned_version(db, shop):
    command = operations.rollback(db, shop)
    assert command.type is CommandType.APPLY_STACK_VERSION
    assert command.status is CommandStatus.PENDING
    assert command.payload == {"version": "v3", "rollback_to": "v1"}
    v1, v3 = db.stack_versions.require(shop, "v1"), db.stack_versions.require(shop, "v3")
    assert v3.digest == v1.digest and v3.compose == v1.compose
    assert v3.parent_version == "v2"
    assert (v3.metadata.created_by, v3.metadata.comment) == ("stackctl rollback", "rollback to v1")
    stack = db.stacks.require(shop)
    assert (stack.current_version, stack.pinned) == ("v3", True)
    [event] = db.events.list(stack_id=shop).items
    assert event.reason == "RolledBack" and "rolled back to v1 as v3" in event.message


def test_the_default_target_skips_versions_that_never_converged(db, shop, tmp_path):
    record(db, tmp_path, "shop", V1, applied=False, LEVEL="debug")  # v3: failed to apply
    assert operations.rollback(db, shop).payload["rollback_to"] == "v2"


def test_rollback_to_a_named_version_also_as_a_bare_number(db, shop, tmp_path):
    record(db, tmp_path, "shop", V1, applied=True, LEVEL="debug")  # v3
    assert operations.rollback(db, shop, "v1").payload == {"version": "v4", "rollback_to": "v1"}
    assert operations.rollback(db, shop, "3").payload == {"version": "v5", "rollback_to": "v3"}


@pytest.mark.parametrize("version", ["v9", "x1", "0"])
def test_an_unknown_version_is_not_found(db, shop, version):
    with pytest.raises(NotFoundError, match="has no version"):
        operations.rollback(db, shop, version)
    assert db.stacks.require(shop).pinned is False


def test_nothing_to_roll_back_to_is_a_conflict_that_changes_nothing(db, tmp_path):
    record(db, tmp_path, "solo", V1, applied=True)
    with pytest.raises(ConflictError, match="no version older than v1 that was applied"):
        operations.rollback(db, "solo")
    with pytest.raises(ConflictError, match="already the current version"):
        operations.rollback(db, "solo", "v1")
    assert [v.version for v in db.stack_versions.list("solo")] == ["v1"]
    assert db.commands.list(stack_id="solo").items == []


def test_a_suspended_stack_is_not_rolled_back(db, shop):
    operations.suspend(db, shop)
    with pytest.raises(ConflictError, match="is suspended: `stackctl resume shop` first"):
        operations.rollback(db, shop)
    assert db.stacks.require(shop).pinned is False


def test_every_action_on_an_unknown_stack_is_not_found(db):
    for action in (operations.rollback, operations.resume, operations.suspend, operations.sync):
        with pytest.raises(NotFoundError, match="no stack named 'ghost'"):
            action(db, "ghost")


def test_while_pinned_file_versions_are_recorded_not_made_current_until_resume(
    db, shop, tmp_path
):
    operations.rollback(db, shop)
    newer = record_version(db, desired(tmp_path, "shop", V2, LEVEL="debug"), root=tmp_path)
    assert newer is not None and newer.version == "v4"
    assert db.stacks.require(shop).current_version == "v3"

    command = operations.resume(db, shop)
    assert command.payload == {"version": "v4"}
    stack = db.stacks.require(shop)
    assert (stack.current_version, stack.pinned, stack.suspended) == ("v4", False, False)
    assert db.events.list(stack_id=shop).items[0].reason == "Resumed"


def test_resume_supersedes_the_pending_apply_of_the_rollback(db, shop):
    rolled = operations.rollback(db, shop)
    resumed = operations.resume(db, shop)
    assert db.commands.require(rolled.command_id).status is CommandStatus.SUPERSEDED
    assert db.commands.require(resumed.command_id).status is CommandStatus.PENDING


def test_suspend_sets_the_flag_and_queues_a_reconcile_resume_clears_it(db, shop):
    command = operations.suspend(db, shop)
    assert command.type is CommandType.RECONCILE
    assert db.stacks.require(shop).suspended is True
    operations.resume(db, shop)
    assert db.stacks.require(shop).suspended is False


def test_sync_coalesces_with_a_pending_command(db, shop):
    first, created = operations.request_sync(db, shop)
    assert created and first.type is CommandType.RECONCILE
    again, created = operations.request_sync(db, shop)
    assert not created and again.command_id == first.command_id
    assert operations.sync(db, shop).command_id == first.command_id


def test_conditions_say_pinned_and_that_a_newer_version_waits(db, shop, tmp_path):
    operations.rollback(db, shop)
    record_version(db, desired(tmp_path, "shop", V2, LEVEL="debug"), root=tmp_path)
    stack = db.stacks.require(shop)
    conditions = {c.type: c for c in operations.stack_conditions(stack, latest_version="v4")}
    assert conditions["Pinned"].status is True
    assert "newer versions up to v4" in conditions["Pinned"].message
    assert conditions["LatestIsCurrent"].status is False
    assert conditions["Synced"].status is False  # applied v2, desired v3
