"""Compaction deletes in transactions of at most ``batch`` commands, each committed on its own,
and the pages it frees are reused: the file stops growing."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from controller.db import Database, RetentionPolicy
from controller.models import Command, CommandType, Stack
from controller.models.errors import TransientError

DAY = 86_400.0
POLICY = RetentionPolicy(keep_commands=1, keep_days=7)


def finish_many(db: Database, stack_ids: list[str], *, rounds: int, log: str = "step") -> None:
    for _ in range(rounds):
        for stack_id in stack_ids:
            command = db.commands.enqueue(
                Command(stack_id=stack_id, type=CommandType.RECONCILE, created_at=db.clock())
            )
            db.commands.claim(worker_id="w", limit=100)
            db.command_logs.add(command.command_id, "INFO", log)
            db.commands.complete(command.command_id)


def remaining(db: Database) -> int:
    return len(db.commands.list(limit=10_000).items)


def test_35_deletable_commands_go_in_4_transactions_of_at_most_10(db: Database, make_stack, clock):
    make_stack("a")
    finish_many(db, ["a"], rounds=36)  # the newest one is kept
    clock.advance(8 * DAY)
    result = db.retention.compact(POLICY, batch=10)
    assert (result.commands, result.command_logs, result.transactions) == (35, 35, 4)
    assert remaining(db) == 1


def test_a_batch_takes_commands_of_several_stacks(db: Database, make_stack, clock):
    for name in ("a", "b", "c"):
        make_stack(name)
    finish_many(db, ["a", "b", "c"], rounds=12)  # 36 finished, 3 kept (one per stack)
    finish_many(db, ["a", "b"], rounds=1)  # ... and 2 more, so 35 deletable over three stacks
    clock.advance(8 * DAY)
    result = db.retention.compact(POLICY, batch=10)
    assert (result.commands, result.transactions) == (35, 4)
    assert remaining(db) == 3


def test_each_batch_commits_alone_so_a_fault_keeps_what_was_done(
    db: Database, make_stack, clock, monkeypatch
):
    make_stack("a")
    finish_many(db, ["a"], rounds=31)
    clock.advance(8 * DAY)
    real, taken = db.transaction, []

    @contextmanager
    def failing_third():
        taken.append(1)
        if len(taken) == 3:
            raise TransientError("disk full (test)")
        with real() as conn:
            yield conn

    monkeypatch.setattr(db, "transaction", failing_third)
    with pytest.raises(TransientError):
        db.retention.compact(POLICY, batch=10)
    assert remaining(db) == 31 - 20  # two batches committed before the fault
    monkeypatch.setattr(db, "transaction", real)
    again = db.retention.compact(POLICY, batch=10)
    assert (again.commands, again.transactions) == (10, 1)
    assert remaining(db) == 1


def test_a_compaction_asked_to_stop_ends_before_its_next_transaction(
    db: Database, make_stack, clock
):
    make_stack("a")
    finish_many(db, ["a"], rounds=31)
    clock.advance(8 * DAY)
    asked = []

    def stop_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2

    first = db.retention.compact(POLICY, batch=10, stop=stop_after_two)
    assert (first.commands, first.transactions, first.stopped) == (20, 2, True)
    assert remaining(db) == 11
    rest = db.retention.compact(POLICY, batch=10)
    assert (rest.commands, rest.stopped) == (10, False)
    assert remaining(db) == 1


def test_the_file_stops_growing_when_compaction_keeps_pace(db_path, clock):
    sizes = []
    # synchronous=OFF: the same pages, written without waiting for the disk.
    with Database(db_path=db_path, clock=clock, synchronous="OFF") as db:
        for name in ("a", "b"):
            db.stacks.create(Stack(stack_id=name, name=name))
        for _ in range(4):  # each round: a day's work, then what is older than a day goes
            finish_many(db, ["a", "b"], rounds=100, log="x" * 400)
            clock.advance(DAY + 1)
            db.retention.compact(RetentionPolicy(keep_commands=1, keep_days=1))
            sizes.append(db.retention.space())
    assert sizes[0].free_pages > 0
    # The rows of later rounds fill the pages freed by earlier ones instead of new ones.
    assert sizes[-1].pages == sizes[1].pages


def test_batch_must_be_positive(db: Database):
    with pytest.raises(ValueError):
        db.retention.compact(POLICY, batch=0)
