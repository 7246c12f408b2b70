"""One bad stack never holds the queue (issue 9, item 6).

A stack whose healthcheck never passed was retried forever, 120 s a health wait, and with one
worker every other stack waited behind it; its DELETE waited minutes. Now: a plan carried out
but not healthy in time ends DONE with the stack marked (Argo CD's "synced but degraded"),
transient failures stop after ``max_failures`` attempts, a DELETE supersedes the stack's
pending commands and stops its running one, ``stackctl cancel`` exists, and long waits say
what they wait for.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.harness import make_harness
from helpers.stacks import desired_stack
from test_failures_retry_or_fail import dead_engine
from typer.testing import CliRunner

from controller.cli import app
from controller.commands.worker import Worker
from controller.db import Database
from controller.models import (
    Command,
    CommandStatus,
    CommandType,
    HealthStatus,
    Stack,
    SyncStatus,
)
from controller.reconcile.reconciler import ReconcilerOptions
from controller.sources.versions import record_version

NEVER_HEALTHY = {"command": ["sleep", "3600"], "init": True,
                 "healthcheck": {"test": ["CMD", "false"], "interval": "1s", "retries": 1000}}


def _worker(db: Database, engine, tmp: Path, **options) -> Worker:
    return Worker(db, engine, worker_id="w", options=ReconcilerOptions(
        files_dir=tmp / "files", **options))


@pytest.mark.engine
def test_applied_but_never_healthy_is_done_and_marked(tmp_path, engine_janitor, test_images):
    h = make_harness(tmp_path, wait_timeout=3)
    h.worker = _worker(h.db, h.engine, tmp_path, wait_timeout=3, progress_every=1)
    name = engine_janitor.project("sick")
    outcome = h.apply(h.stack(name, {"services": {"web": {"image": test_images.v1,
                                                          **NEVER_HEALTHY}}}))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    stack = h.db.stacks.require(name)
    assert stack.applied_version == "v1" and stack.sync_status is SyncStatus.SYNCED
    assert stack.health_status in (HealthStatus.PROGRESSING, HealthStatus.DEGRADED)
    assert f"{name}-web-1" in stack.last_error
    logs = h.log_messages(outcome)
    assert any("applied but" in m and f"{name}-web-1" in m for m in logs), logs
    assert any(m.startswith(f"waiting for {name} to be healthy") for m in logs), logs
    events = h.db.events.list(stack_id=name).items
    assert [e.reason for e in events].count("StackUnhealthy") == 1
    # A resync of the unchanged stack observes once and does not wait again.
    started = time.monotonic()
    assert h.reconcile(name).command.status is CommandStatus.DONE
    assert time.monotonic() - started < 3  # not a timing assertion: it must not wait at all
    assert [e.reason for e in h.db.events.list(stack_id=name).items].count("StackUnhealthy") == 1
    h.db.close()


def test_transient_failures_stop_after_max_failures(tmp_path: Path):
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    db = Database(db_path=tmp_path / "s.db", clock=lambda: now[0])
    worker = _worker(db, dead_engine(), tmp_path, max_failures=3)
    record_version(db, desired_stack(tmp_path, "shop", {"services": {"web": {"image": "i:1"}}}),
                   root=tmp_path)
    queued = db.commands.enqueue(Command(stack_id="shop", type=CommandType.APPLY_STACK_VERSION))
    statuses = []
    for _ in range(3):
        outcome = worker.run_next()
        statuses.append(outcome.command.status)
        now[0] += timedelta(minutes=10)  # past any backoff
    assert statuses == [CommandStatus.PENDING, CommandStatus.PENDING, CommandStatus.FAILED]
    final = db.commands.require(queued.command_id)
    assert final.error.startswith("gave up after 3 failed attempts: ")
    assert "engine unreachable" in final.error
    assert worker.run_next() is None
    db.close()


def test_an_interrupted_attempt_is_not_a_failure(tmp_path: Path):
    db = Database(db_path=tmp_path / "s.db")
    db.stacks.create(Stack(stack_id="shop", name="shop"))
    cmd = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    db.commands.claim(worker_id="w")
    back = db.commands.retry_later(cmd.command_id, delay=0, error="stopping", worker_id="w",
                                   failed=False)
    assert (back.attempts, back.failures) == (1, 0)
    db.close()


def test_delete_supersedes_pending_and_backing_off_commands_and_stops_the_running_one(
        tmp_path: Path):
    db = Database(db_path=tmp_path / "s.db")
    for name in ("a", "b"):
        db.stacks.create(Stack(stack_id=name, name=name))
    running = db.commands.enqueue(Command(stack_id="a", type=CommandType.APPLY_STACK_VERSION))
    db.commands.claim(worker_id="w")
    backing_off = db.commands.enqueue(Command(
        stack_id="a", type=CommandType.RECONCILE,
        not_before=datetime.now(UTC) + timedelta(minutes=5)))
    pending = db.commands.enqueue(Command(stack_id="a", type=CommandType.RECONCILE))
    other = db.commands.enqueue(Command(stack_id="b", type=CommandType.RECONCILE))
    delete = db.commands.enqueue(Command(stack_id="a", type=CommandType.DELETE_STACK))
    def now(c: Command) -> Command:
        return db.commands.require(c.command_id)

    assert now(backing_off).status is CommandStatus.SUPERSEDED
    assert now(pending).status is CommandStatus.SUPERSEDED
    assert now(other).status is CommandStatus.PENDING
    assert now(running).status is CommandStatus.RUNNING
    assert now(running).cancel_requested == (
        f"superseded by command {delete.command_id} (DELETE_STACK)")
    db.close()


@pytest.mark.engine
def test_delete_stops_a_command_stuck_in_a_health_wait(tmp_path, engine_janitor, test_images):
    h = make_harness(tmp_path)
    h.worker = _worker(h.db, h.engine, tmp_path, wait_timeout=300)
    name = engine_janitor.project("stuck")
    record_version(h.db, h.stack(name, {"services": {"web": {"image": test_images.v1,
                                                            **NEVER_HEALTHY}}}), root=tmp_path)
    stuck = h.db.commands.enqueue(Command(stack_id=name, type=CommandType.APPLY_STACK_VERSION))
    worker = threading.Thread(target=h.worker.run_next)
    worker.start()
    deadline = time.monotonic() + 60
    while not h.containers(name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert h.containers(name), "the apply never created its container"
    delete = h.db.commands.enqueue(Command(stack_id=name, type=CommandType.DELETE_STACK))
    worker.join(timeout=30)
    assert not worker.is_alive(), "the health wait did not stop"
    final = h.db.commands.require(stuck.command_id)
    assert final.status is CommandStatus.CANCELLED
    assert final.error == f"superseded by command {delete.command_id} (DELETE_STACK)"
    outcome = h.worker.run_next()
    assert outcome.command.command_id == delete.command_id
    assert outcome.command.status is CommandStatus.DONE
    assert h.containers(name) == {}
    h.db.close()


def test_cancel_command_line(tmp_path: Path):
    db_path = tmp_path / "s.db"
    with Database(db_path=db_path) as db:
        db.stacks.create(Stack(stack_id="shop", name="shop"))
        pending = db.commands.enqueue(Command(stack_id="shop", type=CommandType.RECONCILE))
    runner = CliRunner()
    result = runner.invoke(app, ["cancel", str(pending.command_id), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert f"shop: command {pending.command_id} cancelled" in result.output
    again = runner.invoke(app, ["cancel", str(pending.command_id), "--db", str(db_path)])
    assert again.exit_code == 1
    assert "is CANCELLED: nothing to cancel" in again.output
    with Database(db_path=db_path) as db:
        command = db.commands.require(pending.command_id)
        assert command.status is CommandStatus.CANCELLED
        assert [e.reason for e in db.events.list(stack_id="shop").items] == ["CommandCancelled"]


@pytest.mark.engine
def test_a_stack_asked_back_during_its_delete_keeps_its_version(tmp_path, engine_janitor,
                                                                test_images):
    """Its manifest removed then restored while the DELETE runs (seen in the chaos run): the
    APPLY queued meanwhile must find the version the DELETE would otherwise have cleared."""
    h = make_harness(tmp_path)
    name = engine_janitor.project("back")
    assert h.apply(h.stack(name, {"services": {"web": {"image": test_images.v1,
                                                       "command": ["sleep", "3600"],
                                                       "init": True}}})).command.status \
        is CommandStatus.DONE
    delete = h.db.commands.enqueue(Command(stack_id=name, type=CommandType.DELETE_STACK))
    removing = h.engine.stop_and_remove

    def restored_meanwhile(container: str) -> None:
        removing(container)
        h.db.commands.enqueue(Command(stack_id=name, type=CommandType.APPLY_STACK_VERSION))

    h.engine.stop_and_remove = restored_meanwhile
    outcome = h.worker.run_next()
    assert outcome.command.command_id == delete.command_id
    assert outcome.command.status is CommandStatus.DONE
    stack = h.db.stacks.require(name)
    assert (stack.current_version, stack.applied_version) == ("v1", None)
    assert stack.sync_status is SyncStatus.OUT_OF_SYNC
    again = h.worker.run_next()
    assert again.command.status is CommandStatus.DONE, again.error
    assert list(h.containers(name)) == [f"{name}-web-1"]
    h.db.close()


@pytest.mark.engine
def test_a_deleted_stack_has_no_desired_version(tmp_path, engine_janitor, test_images):
    h = make_harness(tmp_path)
    name = engine_janitor.project("gone")
    h.apply(h.stack(name, {"services": {"web": {"image": test_images.v1,
                                                "command": ["sleep", "3600"], "init": True}}}))
    assert h.delete(name).command.status is CommandStatus.DONE
    stack = h.db.stacks.require(name)
    assert (stack.current_version, stack.applied_version, stack.sync_status) == (
        None, None, SyncStatus.SYNCED)
    h.db.close()


@pytest.mark.engine
def test_a_health_wait_gives_way_to_other_work(tmp_path, engine_janitor, test_images):
    """One worker: a stack that is never healthy ends its wait as soon as another stack's
    command is due, instead of holding the worker for the whole timeout."""
    h = make_harness(tmp_path)
    h.worker = _worker(h.db, h.engine, tmp_path, wait_timeout=300,
                               yield_health_wait=True, follow_up_after=30)
    sick, other = engine_janitor.project("sick"), engine_janitor.project("other")
    record_version(h.db, h.stack(sick, {"services": {"web": {"image": test_images.v1,
                                                            **NEVER_HEALTHY}}}), root=tmp_path)
    record_version(h.db, h.stack(other, {"services": {"web": {"image": test_images.v1,
                                                             "command": ["sleep", "3600"],
                                                             "init": True}}}), root=tmp_path)
    slow = h.db.commands.enqueue(Command(stack_id=sick, type=CommandType.APPLY_STACK_VERSION))
    worker = threading.Thread(target=h.worker.run_next)
    worker.start()
    deadline = time.monotonic() + 60
    while not h.containers(sick) and time.monotonic() < deadline:
        time.sleep(0.2)
    waiting = h.db.commands.enqueue(Command(stack_id=other, type=CommandType.APPLY_STACK_VERSION))
    worker.join(timeout=30)
    assert not worker.is_alive(), "the health wait held the only worker"
    done = h.db.commands.require(slow.command_id)
    assert done.status is CommandStatus.DONE
    assert h.db.stacks.require(sick).health_status is HealthStatus.PROGRESSING
    [follow_up] = [c for c in h.db.commands.list(stack_id=sick).items
                   if c.type is CommandType.RECONCILE]
    assert follow_up.status is CommandStatus.PENDING and follow_up.not_before is not None
    assert any(f"command {follow_up.command_id} looks again" in line.message
               for line in h.db.command_logs.list(slow.command_id))
    outcome = h.worker.run_next()  # the other stack's turn now, not in 300 s
    assert outcome.command.command_id == waiting.command_id
    assert outcome.command.status is CommandStatus.DONE
    h.db.close()


@pytest.mark.engine
def test_cli_apply_of_a_stack_never_healthy_says_so_and_exits_1(tmp_path, engine_janitor,
                                                                test_images):
    import yaml

    name = engine_janitor.project("cli")
    root = tmp_path / "m"
    root.mkdir()
    (root / f"{name}.yaml").write_text(yaml.safe_dump({
        "apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name},
        "spec": {"compose": {"services": {"web": {"image": test_images.v1, **NEVER_HEALTHY}}}}}))
    result = CliRunner().invoke(app, ["apply", str(root), "--db", str(tmp_path / "s.db"),
                                      "--timeout", "3"])
    assert result.exit_code == 1, result.output
    assert f"{name}: applied, but Progressing: {name}-web-1 is starting" in result.stdout
    assert "Traceback" not in result.output
