"""The queue's claim: FIFO, one RUNNING per stack, a global limit, and APPLY superseding."""

from __future__ import annotations

import sqlite3

import pytest

from controller.db import Database
from controller.models import Command, CommandStatus, CommandType
from controller.models.errors import ConflictError, NotFoundError

APPLY = CommandType.APPLY_STACK_VERSION


def enqueue(db: Database, stack_id: str, type: CommandType = CommandType.RECONCILE) -> Command:
    return db.commands.enqueue(Command(stack_id=stack_id, type=type, created_at=db.clock()))


def test_claims_in_fifo_order_across_stacks(db: Database, make_stack):
    for name in ("a", "b", "c"):
        make_stack(name)
    ids = [enqueue(db, name).command_id for name in ("c", "a", "b")]
    claimed = []
    while (cmd := db.commands.claim(worker_id="w", limit=10)) is not None:
        claimed.append(cmd.command_id)
    assert claimed == ids


def test_ties_on_created_at_break_by_id(db: Database, make_stack):
    make_stack("a")
    make_stack("b")
    same = db.clock()
    first = db.commands.enqueue(Command(stack_id="b", type="RECONCILE", created_at=same))
    db.commands.enqueue(Command(stack_id="a", type="RECONCILE", created_at=same))
    assert db.commands.claim(worker_id="w", limit=5).command_id == first.command_id


def test_claim_marks_running_with_worker_and_lease(db: Database, make_stack, clock):
    make_stack("a")
    enqueue(db, "a")
    cmd = db.commands.claim(worker_id="worker-1", lease_seconds=30)
    assert cmd.status is CommandStatus.RUNNING
    assert cmd.worker_id == "worker-1"
    assert 29 < (cmd.lease_expires_at - cmd.started_at).total_seconds() <= 30


def test_never_two_running_commands_for_one_stack(db: Database, make_stack):
    make_stack("a")
    make_stack("b")
    enqueue(db, "a")
    enqueue(db, "a")
    later_b = enqueue(db, "b")
    first = db.commands.claim(worker_id="w1", limit=10)
    # a's second command waits for the first; b's may run beside it.
    assert db.commands.claim(worker_id="w2", limit=10).command_id == later_b.command_id
    assert db.commands.claim(worker_id="w3", limit=10) is None
    db.commands.complete(first.command_id, worker_id="w1")
    assert db.commands.claim(worker_id="w3", limit=10).stack_id == "a"


def test_the_database_itself_refuses_a_second_running_command(db: Database, make_stack):
    make_stack("a")
    enqueue(db, "a")
    second = enqueue(db, "a")
    db.commands.claim(worker_id="w")
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as conn:
        conn.execute(
            "UPDATE commands SET status = 'RUNNING' WHERE command_id = ?", (second.command_id,)
        )


def test_global_limit_of_running_commands(db: Database, make_stack):
    for name in "abc":
        make_stack(name)
        enqueue(db, name)
    assert db.commands.claim(worker_id="w1", limit=2) is not None
    assert db.commands.claim(worker_id="w2", limit=2) is not None
    assert db.commands.claim(worker_id="w3", limit=2) is None
    assert db.commands.claim(worker_id="w3", limit=3) is not None


def test_default_limit_is_the_single_partition_queue(db: Database, make_stack):
    make_stack("a")
    make_stack("b")
    enqueue(db, "a")
    enqueue(db, "b")
    assert db.commands.claim(worker_id="w1") is not None
    assert db.commands.claim(worker_id="w2") is None


def test_empty_queue_claims_nothing(db: Database):
    assert db.commands.claim(worker_id="w") is None
    assert db.commands.get_next_pending() is None


def test_apply_supersedes_the_pending_apply_and_reconcile_of_the_same_stack(
    db: Database, make_stack
):
    make_stack("a")
    make_stack("b")
    old = enqueue(db, "a", APPLY)
    other_stack = enqueue(db, "b", APPLY)
    reconcile = enqueue(db, "a")
    new = enqueue(db, "a", APPLY)
    assert db.commands.require(old.command_id).status is CommandStatus.SUPERSEDED
    assert db.commands.require(old.command_id).ended_at is not None
    assert db.commands.require(other_stack.command_id).status is CommandStatus.PENDING
    # The newer APPLY converges the stack anyway: a pending RECONCILE would only repeat it.
    assert db.commands.require(reconcile.command_id).status is CommandStatus.SUPERSEDED
    assert db.commands.require(new.command_id).status is CommandStatus.PENDING
    [log] = db.command_logs.list(old.command_id)
    assert log.message == f"superseded by command {new.command_id} (APPLY_STACK_VERSION)"


def test_apply_does_not_supersede_a_running_apply(db: Database, make_stack):
    make_stack("a")
    running = enqueue(db, "a", APPLY)
    db.commands.claim(worker_id="w")
    newer = enqueue(db, "a", APPLY)
    assert db.commands.require(running.command_id).status is CommandStatus.RUNNING
    db.commands.complete(running.command_id, worker_id="w")
    # The change that arrived while it ran makes one more run afterwards.
    assert db.commands.claim(worker_id="w").command_id == newer.command_id


def test_enqueue_for_unknown_stack_is_a_clear_error(db: Database):
    with pytest.raises(NotFoundError, match="no stack named 'ghost'"):
        enqueue(db, "ghost")


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (["RUNNING", "DONE"], "RUNNING"),
        (["RUNNING", "DONE"], "PENDING"),
        (["CANCELLED"], "RUNNING"),
        ([], "DONE"),
        (["RUNNING", "FAILED"], "DONE"),
    ],
)
def test_transitions_that_make_no_sense_are_refused(db: Database, make_stack, path, target):
    make_stack("a")
    cmd = enqueue(db, "a")
    for status in path:
        db.commands.update_status(cmd.command_id, status)
    before = db.commands.require(cmd.command_id)
    with pytest.raises(ConflictError, match=f"cannot go from {before.status} to {target}"):
        db.commands.update_status(cmd.command_id, target)
    assert db.commands.require(cmd.command_id) == before


def test_database_refuses_to_reopen_a_finished_command(db: Database, make_stack):
    make_stack("a")
    cmd = enqueue(db, "a")
    db.commands.claim(worker_id="w")
    db.commands.complete(cmd.command_id, worker_id="w")
    with pytest.raises(sqlite3.IntegrityError, match="never changes status"), db.transaction() as c:
        c.execute("UPDATE commands SET status = 'PENDING'")
