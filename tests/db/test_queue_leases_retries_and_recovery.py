"""Leases, backoff and crash recovery, with a clock the test moves."""

from __future__ import annotations

import pytest

from controller.db import Database
from controller.models import Command, CommandStatus
from controller.models.errors import ConflictError


def claimed(db: Database, stack_id: str = "a", worker: str = "w1") -> Command:
    db.commands.enqueue(Command(stack_id=stack_id, type="RECONCILE", created_at=db.clock()))
    cmd = db.commands.claim(worker_id=worker, lease_seconds=10)
    assert cmd is not None
    return cmd


def test_retry_later_waits_until_not_before(db: Database, make_stack, clock):
    make_stack("a")
    cmd = claimed(db)
    retried = db.commands.retry_later(cmd.command_id, delay=5, error="engine busy", worker_id="w1")
    assert (retried.status, retried.attempts, retried.error) == ("PENDING", 1, "engine busy")
    assert db.commands.claim(worker_id="w1") is None
    clock.advance(5)
    assert db.commands.claim(worker_id="w1").command_id == cmd.command_id
    assert "will retry in 5.0s: engine busy" in db.command_logs.list(cmd.command_id)[0].message


def test_a_stack_waiting_for_retry_keeps_its_order(db: Database, make_stack, clock):
    make_stack("a")
    first = claimed(db)
    db.commands.retry_later(first.command_id, delay=60, error="later", worker_id="w1")
    db.commands.enqueue(Command(stack_id="a", type="RECONCILE", created_at=db.clock()))
    # The newer command of the same stack does not overtake the one in backoff.
    assert db.commands.claim(worker_id="w1") is None


def test_complete_and_fail_record_the_outcome(db: Database, make_stack):
    make_stack("a")
    make_stack("b")
    done = db.commands.complete(claimed(db, "a").command_id, worker_id="w1")
    failed = db.commands.fail(claimed(db, "b").command_id, error="image missing", worker_id="w1")
    assert (done.status, done.ended_at is not None, done.lease_expires_at) == ("DONE", True, None)
    assert (failed.status, failed.error, failed.attempts) == ("FAILED", "image missing", 1)


def test_expired_lease_returns_the_command_with_a_log_line(db: Database, make_stack, clock):
    make_stack("a")
    cmd = claimed(db, worker="dead-worker")
    assert db.commands.recover_expired() == []  # lease still valid
    clock.advance(11)
    [recovered] = db.commands.recover_expired()
    assert (recovered.status, recovered.attempts, recovered.worker_id) == ("PENDING", 1, None)
    [log] = db.command_logs.list(cmd.command_id)
    assert "worker dead-worker stopped without finishing" in log.message
    assert db.commands.claim(worker_id="w2").command_id == cmd.command_id


def test_renewed_lease_does_not_expire(db: Database, make_stack, clock):
    make_stack("a")
    cmd = claimed(db)
    clock.advance(8)
    db.commands.renew_lease(cmd.command_id, worker_id="w1", lease_seconds=10)
    clock.advance(8)
    assert db.commands.recover_expired() == []


def test_a_worker_that_lost_its_lease_cannot_finish(db: Database, make_stack, clock):
    make_stack("a")
    cmd = claimed(db, worker="slow")
    clock.advance(11)
    db.commands.recover_expired()
    db.commands.claim(worker_id="fast")
    with pytest.raises(ConflictError, match="held by 'fast', not 'slow'"):
        db.commands.complete(cmd.command_id, worker_id="slow")
    with pytest.raises(ConflictError, match="held by 'fast'"):
        db.commands.renew_lease(cmd.command_id, worker_id="slow")
    assert db.commands.require(cmd.command_id).status is CommandStatus.RUNNING


def test_finishing_a_command_that_is_not_running_is_refused(db: Database, make_stack):
    make_stack("a")
    cmd = db.commands.enqueue(Command(stack_id="a", type="RECONCILE"))
    with pytest.raises(ConflictError, match="is PENDING, not RUNNING"):
        db.commands.complete(cmd.command_id)


def test_a_command_made_running_by_hand_is_recovered_too(db: Database, make_stack, clock):
    make_stack("a")
    cmd = db.commands.enqueue(Command(stack_id="a", type="RECONCILE"))
    db.commands.update_status(cmd.command_id, "RUNNING")
    clock.advance(3600)
    assert [c.command_id for c in db.commands.recover_expired()] == [cmd.command_id]


def test_commands_of_a_worker_known_dead_come_back_at_once(db: Database, make_stack, clock):
    make_stack("a")
    make_stack("b")
    mine = claimed(db, "a", worker="host-1-abc-w0")
    db.commands.enqueue(Command(stack_id="b", type="RECONCILE", created_at=db.clock()))
    other = db.commands.claim(worker_id="cli-7", limit=5)
    recovered = db.commands.recover_expired(dead_worker_prefix="host-1-abc")
    assert [c.command_id for c in recovered] == [mine.command_id]
    assert db.commands.require(other.command_id).status is CommandStatus.RUNNING


def test_attempts_count_every_try_started_as_the_log_shows_them(db: Database, make_stack, clock):
    make_stack("a")
    cmd = claimed(db)
    assert cmd.attempts == 1  # running its first try: 1, not 0
    db.commands.retry_later(cmd.command_id, delay=0, error="busy", worker_id="w1")
    again = db.commands.claim(worker_id="w1", lease_seconds=10)
    assert again.attempts == 2
    clock.advance(11)
    db.commands.recover_expired()  # its worker died in the second try
    third = db.commands.claim(worker_id="w2")
    assert "attempt 3 next" in db.command_logs.list(cmd.command_id)[-1].message
    done = db.commands.complete(third.command_id, worker_id="w2")
    assert (done.attempts, done.failures) == (3, 1)  # three tries, one of them failed
