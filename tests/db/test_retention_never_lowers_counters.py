"""Compaction deletes rows that the metrics' counters and histograms count: what it deletes is
retired into ``retired_totals`` in the same transaction, so every counter-like aggregate of
``db.stats`` reads the same after a compaction as before (and goes on from there), a database of
the previous schema version migrates, and the gauges count only what is there."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from controller.db import Database, RetentionPolicy
from controller.db import database as database_module
from controller.db.events import EventRepository
from controller.db.schema import SCHEMA_VERSION
from controller.db.stats import StatsRepository
from controller.models import Command, CommandStatus, CommandType, Event, Stack
from controller.models.errors import TransientError

DAY = 86_400.0
STACKS = ("a", "b", "c")
WAITS = (0.004, 0.05, 0.5, 0.7, 12.0, 400.0, 5000.0)  # seconds, around WAIT_BOUNDS
RUNS = (0.1, 0.3, 2.5, 45.0, 700.0)  # around RUN_BOUNDS, one past the last
REASONS = ("ManifestInvalid", "Tick", "NeverRecorded")
POLICY = RetentionPolicy(keep_commands=2, keep_days=7, event_days=7)


def run(
    db: Database,
    clock,
    stack_id: str,
    kind: CommandType,
    *,
    wait: float,
    ran: float,
    end: CommandStatus,
) -> None:
    """One command of ``stack_id`` that waits ``wait`` s, runs ``ran`` s and ends ``end``
    (CANCELLED: asked to stop while running). Nothing else may be pending."""
    command = db.commands.enqueue(Command(stack_id=stack_id, type=kind, created_at=db.clock()))
    clock.advance(wait)
    claimed = db.commands.claim(worker_id="w", limit=100)
    assert claimed is not None and claimed.command_id == command.command_id
    clock.advance(ran)
    if end is CommandStatus.DONE:
        db.commands.complete(command.command_id)
    elif end is CommandStatus.FAILED:
        db.commands.fail(command.command_id, error="boom")
    else:
        db.commands.request_cancel(command.command_id, reason="test")
        db.commands.cancel_running(command.command_id)


def history(db: Database, clock, *, rounds: int = 2) -> None:
    """Commands of every type and finished status on three stacks, with spread durations, a
    few never started (cancelled or superseded while pending), and events of a few reasons."""
    ends = (CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.CANCELLED)
    n = 0
    for _ in range(rounds):
        for stack_id in STACKS:
            for kind in CommandType:
                for end in ends:
                    run(
                        db,
                        clock,
                        stack_id,
                        kind,
                        wait=WAITS[n % len(WAITS)],
                        ran=RUNS[n % len(RUNS)],
                        end=end,
                    )
                    n += 1
            pending = db.commands.enqueue(
                Command(stack_id=stack_id, type=CommandType.RECONCILE, created_at=db.clock())
            )
            db.commands.request_cancel(pending.command_id, reason="test")
            apply = Command(stack_id=stack_id, type=CommandType.APPLY_STACK_VERSION)
            older = db.commands.enqueue(apply.model_copy(update={"created_at": db.clock()}))
            db.commands.enqueue(apply.model_copy(update={"created_at": db.clock()}))
            assert db.commands.require(older.command_id).status is CommandStatus.SUPERSEDED
            clock.advance(1.5)
            newer = db.commands.claim(worker_id="w", limit=100)
            clock.advance(0.2)
            db.commands.complete(newer.command_id)
            for stack in (stack_id, None):
                for reason in REASONS[:2]:
                    db.events.add(
                        Event(stack_id=stack, ts=db.clock(), reason=reason, message="seen")
                    )


def counters(db: Database) -> dict[str, Any]:
    """Every counter-like aggregate the metrics are built from, the histograms whole."""
    stats = StatsRepository(db)
    by_status = stats.commands_by_status()
    return {
        "finished": stats.finished_commands([kind.value for kind in CommandType]),
        "by_status": {s.value: by_status.get(s.value) for s in CommandStatus if s.terminal},
        "durations": {
            (span, only): stats.durations(span, finished_only=only)
            for span in ("run", "wait")
            for only in (True, False)
        },
        "events": {reason: stats.events_by_stack(reason) for reason in REASONS},
    }


@pytest.fixture
def stacks(db: Database) -> None:
    for stack_id in STACKS:
        db.stacks.create(Stack(stack_id=stack_id, name=stack_id))


def test_counters_and_histograms_read_the_same_after_compaction(db: Database, stacks, clock):
    history(db, clock)
    clock.advance(10 * DAY)
    history(db, clock, rounds=1)  # recent: kept
    waiting = db.commands.enqueue(Command(stack_id="a", type="RECONCILE", created_at=db.clock()))
    before = counters(db)
    assert before["durations"][("run", True)]["RECONCILE"].total > 0
    result = db.retention.compact(POLICY, batch=4)  # the same label sets across batches
    assert result.commands > 50 and result.events == 24 and result.transactions > 10
    assert counters(db) == before
    assert db.retention.compact(POLICY).commands == 0
    assert counters(db) == before
    by_status = StatsRepository(db).commands_by_status()
    assert (by_status["PENDING"], by_status.get("RUNNING", 0)) == (1, 0)  # gauges: live rows
    assert db.commands.require(waiting.command_id).status is CommandStatus.PENDING


def test_new_work_after_compaction_adds_to_what_was_retired(db: Database, stacks, clock):
    history(db, clock)
    clock.advance(10 * DAY)
    db.retention.compact(POLICY)
    before = counters(db)
    run(db, clock, "a", CommandType.RECONCILE, wait=2.0, ran=3.0, end=CommandStatus.DONE)
    db.events.add(Event(stack_id="a", ts=db.clock(), reason="ManifestInvalid", message="bad"))
    after = counters(db)
    finished = {row[:3]: row[3] for row in after["finished"]}
    assert finished == {
        row[:3]: row[3] + (row[:3] == ("a", "RECONCILE", "DONE")) for row in before["finished"]
    }
    assert after["by_status"]["DONE"] == before["by_status"]["DONE"] + 1
    had = before["durations"][("run", True)]["RECONCILE"]
    ran = after["durations"][("run", True)]["RECONCILE"]
    assert (ran.count, ran.total) == (had.count + 1, pytest.approx(had.total + 3.0))
    assert [a - b for a, b in zip(ran.buckets, had.buckets, strict=True)] == [
        int(bound >= 3.0) for bound in ran.bounds
    ]
    assert after["events"]["ManifestInvalid"]["a"] == before["events"]["ManifestInvalid"]["a"] + 1


def test_a_failed_batch_retires_nothing_and_the_next_run_goes_on(
    db: Database, stacks, clock, monkeypatch
):
    history(db, clock)
    clock.advance(10 * DAY)
    before = counters(db)
    real, taken = db.transaction, []

    @contextmanager
    def failing_third():
        taken.append(1)
        with real() as conn:
            yield conn
            if len(taken) == 3:  # after the batch's retire and delete: all rolled back
                raise TransientError("disk full (test)")

    monkeypatch.setattr(db, "transaction", failing_third)
    with pytest.raises(TransientError):
        db.retention.compact(POLICY, batch=4)
    monkeypatch.setattr(db, "transaction", real)
    assert counters(db) == before
    assert db.retention.compact(POLICY, batch=4).commands > 0
    assert counters(db) == before


def test_a_schema_7_database_migrates_and_compacts(db_path: Path, clock, monkeypatch):
    monkeypatch.setattr(database_module, "MIGRATIONS", database_module.MIGRATIONS[:7])
    monkeypatch.setattr(database_module, "SCHEMA_VERSION", 7)
    # Schema 7 had no outbox: the history is written as that release wrote it, without one.
    monkeypatch.setattr(EventRepository, "_notify", lambda *args: None)
    with Database(db_path=db_path, clock=clock) as old:
        assert old.schema_version == 7
        with old.reading() as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "retired_totals" not in tables
        for stack_id in STACKS:
            old.stacks.create(Stack(stack_id=stack_id, name=stack_id))
        history(old, clock, rounds=1)
    monkeypatch.undo()
    with Database(db_path=db_path, clock=clock) as db:
        assert db.schema_version == SCHEMA_VERSION
        with db.reading() as conn:
            assert conn.execute("SELECT COUNT(*) FROM retired_totals").fetchone()[0] == 0
        before = counters(db)
        clock.advance(10 * DAY)
        assert db.retention.compact(POLICY).commands > 0
        assert counters(db) == before
