"""A rollback asked by someone is recorded as ``stackctl rollback by <who>`` (the identity its
audit entry names), and the automatic rollback still reads it as an operator's choice, which it
never undoes; a version merely named like it is not one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from helpers.seeding import record

from controller.commands import operations
from controller.db import Database
from controller.delivery.rollbacks.decision import (
    MANUAL_ROLLBACK_BY,
    Action,
    VersionFacts,
    decide_rollback,
    manual_rollback,
)
from controller.models.audit import Actor, Surface

ROOT = Actor(who="local:root", who_kind="local", surface=Surface.CLI)
NEW = VersionFacts(
    version="v7", on_failure=True, healthy_before=False, created_by="stackctl", decided=False
)


@pytest.mark.parametrize(
    ("created_by", "manual"),
    [
        (MANUAL_ROLLBACK_BY, True),
        ("stackctl rollback by local:root", True),
        ("stackctl rollback by alice", True),
        ("stackctl rollbacks", False),
        ("stackctl rollback-ish by alice", False),
        ("stackctl apply by local:root", False),
    ],
)
def test_what_reads_as_a_manual_rollback(created_by: str, manual: bool):
    assert manual_rollback(created_by) is manual
    decision = decide_rollback(
        failed=replace(NEW, created_by=created_by),
        trouble="web-1 is unhealthy after 3 s",
        current_version="v7",
        suspended=False,
        last_healthy="v6",
    )
    assert decision.action is (Action.NOTHING if manual else Action.ROLL_BACK)


def test_a_rollback_by_someone_names_them_and_is_not_undone(db: Database, tmp_path: Path):
    record(db, tmp_path, "shop", "stackctl-test/busybox:1", applied=True)
    record(db, tmp_path, "shop", "stackctl-test/busybox:2", applied=True)
    operations.rollback(db, "shop", actor=ROOT)
    v3 = db.stack_versions.require("shop", "v3")
    assert v3.metadata.created_by == "stackctl rollback by local:root"
    [event] = db.events.list(stack_id="shop").items
    assert event.message.startswith("rolled back by local:root to v1 as v3 (was v2)")
    decision = decide_rollback(
        failed=replace(NEW, version="v3", created_by=v3.metadata.created_by),
        trouble="apply failed",
        current_version="v3",
        suspended=False,
        last_healthy="v2",
    )
    assert decision.action is Action.NOTHING and "stackctl rollback" in decision.why
