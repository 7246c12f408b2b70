"""``announcements.started`` / ``ended`` on a database alone: which command transitions become
outbox messages, keyed by command so a retried transition is one message, and how a stack's
``outcome`` topic coalesces repeats (a failure said once until a success resets it, a second
success of the same version not said again, every drift correction said).

The plan is a small stand-in exposing what ``ended`` reads (``in_sync``, ``changes`` and each
change's ``describe()``): no engine, no planner."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.seeding import record

from controller.db import Database
from controller.delivery.notifications import announcements
from controller.models import Command, CommandType, HealthStatus


@dataclass(frozen=True)
class Change:
    text: str

    def describe(self) -> str:
        return self.text


@dataclass(frozen=True)
class FakePlan:
    changes: tuple[Change, ...] = ()

    @property
    def in_sync(self) -> bool:
        return not self.changes


def plan(*texts: str) -> FakePlan:
    return FakePlan(tuple(Change(t) for t in texts))


def command(command_id: int, kind: CommandType, **payload: str) -> Command:
    return Command(command_id=command_id, stack_id="shop", type=kind, payload=payload)


def said(db: Database) -> list[tuple[str, str]]:
    """(kind, message) of the stack's outbox, oldest first, without what recording said."""
    return [
        (m["kind"], m["message"])
        for m in reversed(db.outbox.messages(stack_id="shop", limit=100))
        if m["kind"] != "version.recorded"
    ]


@pytest.fixture
def db(tmp_path: Path):
    db = Database(db_path=tmp_path / "s.db")
    record(db, tmp_path, "shop", "i:1", applied=True)  # current v1, Healthy
    yield db
    db.close()


def test_an_apply_says_started_once_per_command(db: Database):
    apply = command(7, CommandType.APPLY_STACK_VERSION, version="v1")
    announcements.started(db, apply)
    announcements.started(db, apply)  # the same transition recorded again (a retry)
    assert said(db) == [("apply.started", "shop v1: apply started")]
    announcements.started(db, command(8, CommandType.RECONCILE))
    announcements.started(db, command(9, CommandType.DELETE_STACK))
    assert len(said(db)) == 1  # only an APPLY says it starts
    announcements.started(db, command(10, CommandType.APPLY_STACK_VERSION, version="v1"))
    assert len(said(db)) == 2  # another APPLY of the same version starts anew


def test_an_apply_that_succeeds_names_its_changes_and_health(db: Database):
    apply = command(7, CommandType.APPLY_STACK_VERSION, version="v1")
    announcements.ended(db, apply, plan("create shop-web-1: new service"), error=None)
    assert said(db) == [
        ("apply.succeeded", "shop v1 applied: 1 change: create shop-web-1: new service; Healthy")
    ]
    [message] = [m for m in db.outbox.unrouted() if m.kind == "apply.succeeded"]
    assert message.key == "apply.succeeded:7"
    assert message.payload["changes"] == ["create shop-web-1: new service"]
    assert (message.payload["health"], message.payload["error"]) == ("Healthy", None)
    # A second success of the same version (another APPLY of it) is not said again.
    announcements.ended(db, command(8, CommandType.APPLY_STACK_VERSION), plan(), error=None)
    assert len(said(db)) == 1


def test_a_failure_repeated_by_every_resync_is_said_once_until_a_success(db: Database):
    for command_id in (1, 2, 3):
        announcements.ended(
            db, command(command_id, CommandType.RECONCILE), None, error="image not present"
        )
    assert said(db) == [("apply.failed", "shop v1: apply failed: image not present")]
    # A RECONCILE with nothing to do says nothing, but resets the topic...
    announcements.ended(db, command(4, CommandType.RECONCILE), plan(), error=None)
    assert len(said(db)) == 1
    # ...so the same failure met again is news again.
    announcements.ended(db, command(5, CommandType.RECONCILE), None, error="image not present")
    assert [kind for kind, _ in said(db)] == ["apply.failed", "apply.failed"]
    # A different failure is said even without a success between.
    announcements.ended(db, command(6, CommandType.RECONCILE), None, error="port in use")
    assert said(db)[-1] == ("apply.failed", "shop v1: apply failed: port in use")


def test_every_drift_correction_is_said(db: Database):
    for command_id in (1, 2):
        announcements.ended(
            db, command(command_id, CommandType.RECONCILE), plan("create shop-web-1"), error=None
        )
    assert (
        said(db)
        == [("drift.corrected", "shop v1: drift corrected: 1 change: create shop-web-1; Healthy")]
        * 2
    )


def test_a_delete_says_nothing(db: Database):
    delete = command(1, CommandType.DELETE_STACK)
    announcements.ended(db, delete, plan("remove shop-web-1"), error=None)
    announcements.ended(db, delete, None, error="engine gone")
    assert said(db) == []


def test_the_message_names_the_stacks_current_version_not_the_queued_one(
    db: Database, tmp_path: Path
):
    record(db, tmp_path, "shop", "i:2", applied=False)  # v2 is current now
    db.stacks.update("shop", health_status=HealthStatus.PROGRESSING)
    old = command(7, CommandType.APPLY_STACK_VERSION, version="v1")
    announcements.ended(db, old, plan("recreate shop-web-1: image changed"), error=None)
    assert said(db) == [
        (
            "apply.succeeded",
            "shop v2 applied: 1 change: recreate shop-web-1: image changed; Progressing",
        )
    ]


def test_a_command_of_an_unknown_stack_says_nothing(db: Database):
    ghost = Command(command_id=1, stack_id="ghost", type=CommandType.APPLY_STACK_VERSION)
    announcements.started(db, ghost)
    announcements.ended(db, ghost, None, error="boom")
    assert db.outbox.messages(stack_id="ghost") == []


def test_a_summary_names_five_changes_and_counts_the_rest():
    assert announcements.summary(None) == "in sync, nothing to change"
    assert announcements.summary(plan()) == "in sync, nothing to change"
    assert announcements.summary(plan("a", "b")) == "2 changes: a, b"
    seven = plan(*"abcdefg")
    assert announcements.summary(seven) == "7 changes: a, b, c, d, e and 2 more"
