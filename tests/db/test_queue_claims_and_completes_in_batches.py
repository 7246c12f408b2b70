"""``claim_batch`` and ``complete_and_claim`` (issue 13, item 3): up to K commands of distinct
stacks in one transaction, with every guarantee of the single claim (FIFO per stack, one
RUNNING per stack, the global limit, backoff, leases, superseding, recovery)."""

from __future__ import annotations

import pytest

from controller.db import Database
from controller.models import Command, CommandStatus, CommandType
from controller.models.errors import ConflictError, NotFoundError

APPLY = CommandType.APPLY_STACK_VERSION


def enqueue(db: Database, stack_id: str, type: CommandType = CommandType.RECONCILE) -> Command:
    return db.commands.enqueue(Command(stack_id=stack_id, type=type, created_at=db.clock()))


def ids(commands: list[Command]) -> list[int | None]:
    return [c.command_id for c in commands]


def statuses(db: Database) -> dict[int, CommandStatus]:
    return {c.command_id: c.status for c in db.commands.list(limit=1000).items}


def test_a_batch_takes_each_stacks_oldest_command_in_fifo_order(db: Database, make_stack):
    for name in "abc":
        make_stack(name)
    queued = [enqueue(db, name) for name in "cabcab"]  # two commands per stack
    batch = db.commands.claim_batch(worker_id="w", limit=10, batch=10)
    # Distinct stacks: each stack's first command only, oldest first.
    assert ids(batch) == ids(queued[:3])
    assert [c.stack_id for c in batch] == ["c", "a", "b"]
    assert all(c.status is CommandStatus.RUNNING and c.worker_id == "w" for c in batch)
    assert all(c.attempts == 1 and c.lease_expires_at is not None for c in batch)
    # The second commands wait for their stack's first to finish.
    assert db.commands.claim_batch(worker_id="w2", limit=10, batch=10) == []
    done, claimed = db.commands.complete_and_claim(ids(batch), worker_id="w", limit=10, batch=10)
    assert ids(done) == ids(batch) and all(c.status is CommandStatus.DONE for c in done)
    assert ids(claimed) == ids(queued[3:])


def test_never_two_running_commands_of_one_stack(db: Database, make_stack):
    make_stack("a")
    make_stack("b")
    first_a = enqueue(db, "a")
    enqueue(db, "a")
    first_b = enqueue(db, "b")
    one = db.commands.claim_batch(worker_id="w1", limit=10, batch=1)
    assert ids(one) == [first_a.command_id]
    # Another worker's batch skips stack a (it runs) and its queued command.
    assert ids(db.commands.claim_batch(worker_id="w2", limit=10, batch=10)) == [first_b.command_id]
    with db.reading() as conn:
        per_stack = conn.execute(
            "SELECT stack_id, COUNT(*) FROM commands WHERE status = 'RUNNING' GROUP BY stack_id"
        ).fetchall()
    assert {row[0]: row[1] for row in per_stack} == {"a": 1, "b": 1}


def test_the_global_limit_caps_the_batch(db: Database, make_stack):
    for name in "abcde":
        make_stack(name)
        enqueue(db, name)
    assert len(db.commands.claim_batch(worker_id="w1", limit=3, batch=2)) == 2
    assert len(db.commands.claim_batch(worker_id="w2", limit=3, batch=10)) == 1  # 3 in all
    assert db.commands.claim_batch(worker_id="w3", limit=3, batch=10) == []
    assert db.commands.claim(worker_id="w3", limit=3) is None


def test_completing_frees_room_for_the_next_batch_under_the_limit(db: Database, make_stack):
    for name in "abcd":
        make_stack(name)
        enqueue(db, name)
    first = db.commands.claim_batch(worker_id="w", limit=2, batch=5)
    assert len(first) == 2
    _, second = db.commands.complete_and_claim(ids(first), worker_id="w", limit=2, batch=5)
    assert [c.stack_id for c in second] == ["c", "d"]


def test_a_batch_honours_not_before_and_the_stacks_order(db: Database, make_stack, clock):
    make_stack("a")
    make_stack("b")
    enqueue(db, "a")
    [waiting] = db.commands.claim_batch(worker_id="w", limit=5, batch=1)
    db.commands.retry_later(waiting.command_id, delay=30, error="busy", worker_id="w")
    later_a = enqueue(db, "a")  # must not overtake the command in backoff
    b = enqueue(db, "b")
    assert ids(db.commands.claim_batch(worker_id="w", limit=5, batch=5)) == [b.command_id]
    clock.advance(30)
    _, claimed = db.commands.complete_and_claim([b.command_id], worker_id="w", limit=5, batch=5)
    assert ids(claimed) == [waiting.command_id]
    assert claimed[0].attempts == 2
    _, claimed = db.commands.complete_and_claim(
        [waiting.command_id], worker_id="w", limit=5, batch=5
    )
    assert ids(claimed) == [later_a.command_id]


@pytest.fixture
def two_stacks(db: Database, make_stack):
    make_stack("a")
    make_stack("b")
    enqueue(db, "a")
    enqueue(db, "b")


def test_a_lost_lease_refuses_the_whole_batch_and_changes_nothing(db: Database, two_stacks, clock):
    slow = db.commands.claim_batch(worker_id="slow", lease_seconds=10, limit=5, batch=5)
    assert len(slow) == 2
    clock.advance(11)
    db.commands.recover_expired()
    fast = db.commands.claim_batch(worker_id="fast", limit=5, batch=1)  # takes a back
    c = enqueue(db, "a")
    before = statuses(db)
    with pytest.raises(ConflictError, match="held by 'fast', not 'slow'"):
        db.commands.complete_and_claim(ids(slow), worker_id="slow", limit=5, batch=5)
    assert statuses(db) == before  # not even the command it still could have finished
    assert db.commands.require(fast[0].command_id).worker_id == "fast"
    assert db.commands.require(c.command_id).status is CommandStatus.PENDING


def test_completing_a_command_not_running_is_refused(db: Database, two_stacks):
    [a, b] = db.commands.claim_batch(worker_id="w", limit=5, batch=5)
    db.commands.complete(a.command_id, worker_id="w")
    with pytest.raises(ConflictError, match="is DONE, not RUNNING"):
        db.commands.complete_and_claim([b.command_id, a.command_id], worker_id="w", batch=5)
    assert db.commands.require(b.command_id).status is CommandStatus.RUNNING
    with pytest.raises(NotFoundError, match="no command 999"):
        db.commands.complete_and_claim([999], worker_id="w")


def test_an_apply_enqueued_while_a_batch_runs_supersedes_only_pending_ones(
    db: Database, make_stack
):
    make_stack("a")
    make_stack("b")
    running = enqueue(db, "a", APPLY)
    pending_b = enqueue(db, "b", APPLY)
    [claimed] = db.commands.claim_batch(worker_id="w", limit=1, batch=5)  # limit 1: a only
    assert claimed.command_id == running.command_id
    newer_b = enqueue(db, "b", APPLY)
    newer_a = enqueue(db, "a", APPLY)
    assert db.commands.require(pending_b.command_id).status is CommandStatus.SUPERSEDED
    assert db.commands.require(running.command_id).status is CommandStatus.RUNNING
    done, claimed = db.commands.complete_and_claim(
        [running.command_id], worker_id="w", limit=5, batch=5
    )
    assert done[0].status is CommandStatus.DONE
    # The change that arrived while a ran makes one more run afterwards.
    assert ids(claimed) == [newer_b.command_id, newer_a.command_id]


def test_a_delete_asks_a_batch_member_to_stop(db: Database, two_stacks):
    db.commands.claim_batch(worker_id="w", limit=5, batch=5)
    delete = enqueue(db, "a", CommandType.DELETE_STACK)
    [running_a] = db.commands.list(stack_id="a", status="RUNNING").items
    assert f"superseded by command {delete.command_id}" in running_a.cancel_requested
    cancelled = db.commands.cancel_running(running_a.command_id, worker_id="w")
    assert cancelled.status is CommandStatus.CANCELLED
    _, claimed = db.commands.complete_and_claim([], worker_id="w", limit=5, batch=5)
    assert ids(claimed) == [delete.command_id]


def test_a_batch_left_by_a_killed_worker_is_recovered(db: Database, make_stack, clock):
    for name in "abc":
        make_stack(name)
        enqueue(db, name)
    doomed = db.commands.claim_batch(worker_id="doomed", lease_seconds=10, limit=5, batch=5)
    assert len(doomed) == 3
    # The process dies here: nothing finishes the batch. Its leases run out.
    clock.advance(5)
    assert db.commands.recover_expired() == []
    clock.advance(6)
    recovered = db.commands.recover_expired()
    assert ids(recovered) == ids(doomed)
    assert all(c.status is CommandStatus.PENDING and c.worker_id is None for c in recovered)
    again = db.commands.claim_batch(worker_id="survivor", limit=5, batch=5)
    assert ids(again) == ids(doomed) and all(c.attempts == 2 for c in again)
    for command in doomed:
        [log] = db.command_logs.list(command.command_id)
        assert "worker doomed stopped without finishing" in log.message


def test_a_claim_given_back_unstarted_is_pending_as_before(db: Database, two_stacks):
    [a, _] = db.commands.claim_batch(worker_id="w", limit=5, batch=5)
    released = db.commands.release(a.command_id, worker_id="w")
    assert (released.status, released.attempts, released.worker_id) == ("PENDING", 0, None)
    assert released.lease_expires_at is None
    with pytest.raises(ConflictError, match="is PENDING, not RUNNING"):
        db.commands.release(a.command_id, worker_id="w")
    assert db.commands.claim(worker_id="w2", limit=5).command_id == a.command_id


def test_single_statement_finishes_return_the_stored_state(db: Database, two_stacks):
    [a, b] = db.commands.claim_batch(worker_id="w", limit=5, batch=5)
    done = db.commands.complete(a.command_id, worker_id="w")
    failed = db.commands.fail(b.command_id, error="image missing", worker_id="w")
    assert done == db.commands.require(a.command_id)
    assert failed == db.commands.require(b.command_id)
    assert (failed.status, failed.failures, failed.error) == ("FAILED", 1, "image missing")
    with pytest.raises(ConflictError, match="is FAILED, not RUNNING"):
        db.commands.fail(b.command_id, error="again", worker_id="w")
    assert db.commands.require(b.command_id) == failed


def test_commands_read_back_equal_the_validated_model(db: Database, two_stacks):
    [a, _] = db.commands.claim_batch(worker_id="w", limit=5, batch=5)
    assert a == Command.model_validate(a.model_dump())
    assert a.type is CommandType.RECONCILE and a.status is CommandStatus.RUNNING
    assert a.started_at.utcoffset().total_seconds() == 0
