"""Retention: which commands, log lines and events a compaction deletes, and which it keeps.

The clock is the fixture's: commands are finished "then", the clock moves on, compaction runs.
"""

from __future__ import annotations

import hashlib

import pytest

from controller.db import Database, RetentionPolicy
from controller.models import (
    Command,
    CommandStatus,
    CommandType,
    ComposeDefinition,
    Event,
    StackMetadata,
    StackVersion,
)

DAY = 86_400.0


def finished(
    db: Database, stack_id: str, *, status: CommandStatus = CommandStatus.DONE, logs: int = 1
) -> int:
    """One command of ``stack_id`` run to ``status`` now, with ``logs`` log lines."""
    command = db.commands.enqueue(
        Command(stack_id=stack_id, type=CommandType.RECONCILE, created_at=db.clock())
    )
    assert command.command_id is not None
    if status is CommandStatus.CANCELLED:
        db.commands.request_cancel(command.command_id, reason="test")
        return command.command_id
    claimed = db.commands.claim(worker_id="w", limit=100)
    assert claimed is not None and claimed.command_id == command.command_id
    for n in range(logs):
        db.command_logs.add(command.command_id, "INFO", f"step {n}")
    if status is CommandStatus.FAILED:
        db.commands.fail(command.command_id, error="boom")
    else:
        db.commands.complete(command.command_id)
    return command.command_id


def ids(db: Database, stack_id: str) -> list[int]:
    return sorted(c.command_id for c in db.commands.list(stack_id=stack_id, limit=10_000).items)


def test_the_newest_commands_of_each_stack_stay_however_old(db: Database, make_stack, clock):
    make_stack("a")
    make_stack("b")
    made = {"a": [], "b": []}
    for _ in range(5):
        for stack in made:
            made[stack].append(finished(db, stack))
    clock.advance(30 * DAY)
    result = db.retention.compact(RetentionPolicy(keep_commands=3, keep_days=7))
    assert result.commands == 4
    assert ids(db, "a") == made["a"][-3:]
    assert ids(db, "b") == made["b"][-3:]


def test_everything_finished_within_keep_days_stays(db: Database, make_stack, clock):
    make_stack("a")
    old = [finished(db, "a") for _ in range(10)]
    clock.advance(5 * DAY)
    recent = [finished(db, "a") for _ in range(10)]
    clock.advance(3 * DAY)  # old: 8 days; recent: 3 days
    result = db.retention.compact(RetentionPolicy(keep_commands=1, keep_days=7))
    assert result.commands == len(old)
    assert ids(db, "a") == recent


def test_age_counts_from_the_end_not_the_creation(db: Database, make_stack, clock):
    make_stack("a")
    first = finished(db, "a")
    late = db.commands.enqueue(Command(stack_id="a", type="RECONCILE", created_at=db.clock()))
    clock.advance(6 * DAY)  # queued for six days (a long backoff), then run
    db.commands.claim(worker_id="w")
    db.commands.complete(late.command_id)
    newest = finished(db, "a")
    clock.advance(2 * DAY)
    db.retention.compact(RetentionPolicy(keep_commands=1, keep_days=7))
    assert ids(db, "a") == [late.command_id, newest]
    assert first not in ids(db, "a")


def test_every_finished_status_goes(db: Database, make_stack, clock):
    make_stack("a")
    for status in (CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.CANCELLED):
        finished(db, "a", status=status)
    # An APPLY supersedes the PENDING APPLY before it.
    apply = Command(stack_id="a", type=CommandType.APPLY_STACK_VERSION, created_at=db.clock())
    superseded = db.commands.enqueue(apply)
    db.commands.enqueue(apply.model_copy(update={"created_at": db.clock()}))
    assert db.commands.require(superseded.command_id).status is CommandStatus.SUPERSEDED
    newer = db.commands.claim(worker_id="w")
    db.commands.complete(newer.command_id)
    keep = finished(db, "a")
    clock.advance(10 * DAY)
    result = db.retention.compact(RetentionPolicy(keep_commands=1, keep_days=1))
    assert ids(db, "a") == [keep]
    assert result.commands == 5


def test_pending_and_running_commands_stay_however_old(db: Database, make_stack, clock):
    make_stack("a")
    make_stack("b")
    done = [finished(db, "a") for _ in range(3)]
    running = db.commands.enqueue(Command(stack_id="a", type="RECONCILE", created_at=db.clock()))
    assert db.commands.claim(worker_id="w").command_id == running.command_id
    waiting = db.commands.enqueue(Command(stack_id="a", type="RECONCILE", created_at=db.clock()))
    alone = db.commands.enqueue(Command(stack_id="b", type="RECONCILE", created_at=db.clock()))
    clock.advance(365 * DAY)
    db.retention.compact(RetentionPolicy(keep_commands=1, keep_days=0, event_days=0))
    assert ids(db, "a") == [done[-1], running.command_id, waiting.command_id]
    assert ids(db, "b") == [alone.command_id]
    assert db.commands.require(running.command_id).status is CommandStatus.RUNNING


def test_log_lines_go_with_their_command_and_only_with_it(db: Database, make_stack, clock):
    make_stack("a")
    gone = [finished(db, "a", logs=3) for _ in range(4)]
    kept = [finished(db, "a", logs=2) for _ in range(2)]
    clock.advance(8 * DAY)
    result = db.retention.compact(RetentionPolicy(keep_commands=2, keep_days=7))
    assert (result.commands, result.command_logs) == (4, 12)
    assert all(db.command_logs.list(command_id) == [] for command_id in gone)
    assert [len(db.command_logs.list(command_id)) for command_id in kept] == [2, 2]


def test_versions_and_blobs_are_history_and_stay(db: Database, make_stack, clock):
    make_stack("a")
    for image in ("busybox:1", "busybox:2", "busybox:3"):
        db.stack_versions.create(
            StackVersion(
                stack_id="a",
                compose=ComposeDefinition(services={"web": {"image": image}}),
                metadata=StackMetadata(created_by="test"),
            )
        )
        finished(db, "a")
    content = b"a secret"
    digest = hashlib.sha256(content).hexdigest()
    db.blobs.put_many({digest: content})
    before = db.stack_versions.list("a")
    clock.advance(400 * DAY)
    db.retention.compact(RetentionPolicy(keep_commands=1, keep_days=0, event_days=0))
    assert db.stack_versions.list("a") == before
    assert db.blobs.get_many([digest]) == {digest: content}
    assert db.stacks.require("a").current_version == "v3"


def test_events_go_by_age_alone(db: Database, make_stack, clock):
    make_stack("a")

    def event(stack_id: str | None, message: str) -> int:
        added = db.events.add(
            Event(stack_id=stack_id, ts=db.clock(), reason="Tick", message=message)
        )
        assert added.event_id is not None
        return added.event_id

    event("a", "old")
    event(None, "old, of no stack")
    clock.advance(20 * DAY)
    recent = [event("a", "recent"), event(None, "recent, of no stack")]
    clock.advance(15 * DAY)  # old: 35 days, recent: 15
    result = db.retention.compact(RetentionPolicy(event_days=30))
    assert result.events == 2
    assert sorted(e.event_id for e in db.events.list(limit=100).items) == recent


def test_a_second_compaction_finds_nothing(db: Database, make_stack, clock):
    make_stack("a")
    for _ in range(20):
        finished(db, "a", logs=2)
    db.events.add(Event(ts=db.clock(), reason="Tick", message="old"))
    clock.advance(60 * DAY)
    policy = RetentionPolicy(keep_commands=5)
    first = db.retention.compact(policy)
    assert (first.commands, first.command_logs, first.events) == (15, 30, 1)
    again = db.retention.compact(policy)
    assert (again.commands, again.command_logs, again.events, again.transactions) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "fields",
    [{"keep_commands": 0}, {"keep_commands": -1}, {"keep_days": -1}, {"event_days": -0.5}],
)
def test_a_policy_that_would_delete_too_much_is_refused(fields):
    with pytest.raises(ValueError):
        RetentionPolicy(**fields)


def test_the_defaults(db: Database):
    policy = RetentionPolicy()
    assert (policy.keep_commands, policy.keep_days, policy.event_days) == (100, 7.0, 30.0)
