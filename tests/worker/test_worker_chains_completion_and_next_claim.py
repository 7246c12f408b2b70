"""A worker in a loop completes a DONE command and claims its next in one transaction
(``chain``, issue 13, item 3), and never leaves a command claimed ahead RUNNING when it stops.
The queue side only: the reconcile step is replaced, so no engine is needed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from test_failures_retry_or_fail import dead_engine

from controller.commands.worker import Worker
from controller.db import Database
from controller.models import Command, CommandStatus, CommandType, Stack
from controller.models.errors import PermanentError
from controller.reconcile.reconciler import ReconcilerOptions


@pytest.fixture
def db(tmp_path: Path):
    with Database(db_path=tmp_path / "stackctl.db") as database:
        for name in ("a", "b"):
            database.stacks.create(Stack(stack_id=name, name=name))
        yield database


def make_worker(db: Database, tmp: Path, *, chain: bool, fails: bool = False):
    stop = threading.Event()
    worker = Worker(
        db,
        dead_engine(),
        worker_id="w",
        stop=stop,
        chain=chain,
        options=ReconcilerOptions(files_dir=tmp / "files", worker_limit=2),
    )

    def reconcile(command: Command, *, check) -> None:
        check()
        if fails:
            raise PermanentError("spec invalid")

    worker.reconciler.reconcile = reconcile  # type: ignore[method-assign]
    return worker, stop


def enqueue(db: Database, stack_id: str) -> Command:
    return db.commands.enqueue(Command(stack_id=stack_id, type=CommandType.RECONCILE))


def started_lines(db: Database, command_id: int | None) -> list[str]:
    assert command_id is not None
    return [log.message for log in db.command_logs.list(command_id) if "started" in log.message]


def test_a_done_command_hands_over_to_the_next_in_one_step(db: Database, tmp_path: Path):
    worker, _ = make_worker(db, tmp_path, chain=True)
    first, second = enqueue(db, "a"), enqueue(db, "b")
    outcome = worker.run_next()
    assert outcome.command.command_id == first.command_id
    assert outcome.command.status is CommandStatus.DONE
    ahead = db.commands.require(second.command_id)
    assert (ahead.status, ahead.worker_id, ahead.attempts) == ("RUNNING", "w", 1)
    outcome = worker.run_next()  # runs the command claimed ahead: no second claim
    assert outcome.command.command_id == second.command_id
    assert (outcome.command.status, outcome.command.attempts) == ("DONE", 1)
    assert started_lines(db, second.command_id) == ["RECONCILE b started (attempt 1)"]
    assert worker.run_next() is None


def test_without_chain_the_next_command_waits_in_the_queue(db: Database, tmp_path: Path):
    worker, _ = make_worker(db, tmp_path, chain=False)
    enqueue(db, "a")
    second = enqueue(db, "b")
    assert worker.run_next().command.status is CommandStatus.DONE
    assert db.commands.require(second.command_id).status is CommandStatus.PENDING


def test_a_failed_command_claims_nothing_ahead(db: Database, tmp_path: Path):
    worker, _ = make_worker(db, tmp_path, chain=True, fails=True)
    enqueue(db, "a")
    second = enqueue(db, "b")
    assert worker.run_next().command.status is CommandStatus.FAILED
    assert db.commands.require(second.command_id).status is CommandStatus.PENDING


def test_a_stopping_worker_gives_back_what_it_claimed_ahead(db: Database, tmp_path: Path):
    worker, stop = make_worker(db, tmp_path, chain=True)
    enqueue(db, "a")
    second = enqueue(db, "b")
    worker.run_next()
    stop.set()
    assert worker.run_next() is None  # not started: given back
    back = db.commands.require(second.command_id)
    assert (back.status, back.worker_id, back.attempts, back.lease_expires_at) == (
        "PENDING",
        None,
        0,
        None,
    )
    assert started_lines(db, second.command_id) == []


def test_release_claimed_when_the_loop_ends(db: Database, tmp_path: Path):
    worker, _ = make_worker(db, tmp_path, chain=True)
    enqueue(db, "a")
    second = enqueue(db, "b")
    worker.run_next()
    worker.release_claimed()
    worker.release_claimed()  # nothing left: nothing happens
    assert db.commands.require(second.command_id).status is CommandStatus.PENDING
    outcome = worker.run_next()  # claimed afresh
    assert outcome.command.command_id == second.command_id
    assert outcome.command.attempts == 1


def test_a_stop_before_the_completion_claims_nothing_ahead(db: Database, tmp_path: Path):
    worker, stop = make_worker(db, tmp_path, chain=True)
    first = enqueue(db, "a")
    second = enqueue(db, "b")
    claimed = db.commands.claim(worker_id="w", limit=2)
    assert claimed.command_id == first.command_id
    stop.set()
    outcome = worker._finish(claimed, None, error=None, seconds=0.1)
    assert outcome.command.status is CommandStatus.DONE
    assert db.commands.require(second.command_id).status is CommandStatus.PENDING


def test_a_lost_lease_records_nothing_and_claims_nothing(db: Database, tmp_path: Path):
    worker, _ = make_worker(db, tmp_path, chain=True)
    first = enqueue(db, "a")
    second = enqueue(db, "b")

    def taken_over(command: Command, *, check) -> None:
        db.commands.recover_expired(dead_worker_prefix="w")  # as if our lease ran out
        assert db.commands.claim(worker_id="other", limit=2).command_id == first.command_id

    worker.reconciler.reconcile = taken_over  # type: ignore[method-assign]
    outcome = worker.run_next()
    assert outcome.error == "lease lost before the outcome was recorded"
    assert db.commands.require(first.command_id).worker_id == "other"
    assert db.commands.require(second.command_id).status is CommandStatus.PENDING
