"""A ``depends_on`` wait gives its worker to waiting work, as the final health wait does
(issue 24, item 4).

A dependant waiting for ``service_healthy`` held the only worker for the whole timeout (120 s
an attempt) and an unrelated stack waited behind it. Now, when another stack's command waits for
a worker, the waiting command goes back to the queue (not a failure) and goes on after it; its
wait still counts from its first look, so a condition never met ends as before, and one met
later converges.

One worker, on the real engine; the order of what happened is asserted, never how long it took.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from helpers.harness import make_harness

from controller.commands.worker import Outcome, Worker
from controller.models import Command, CommandStatus, CommandType
from controller.reconcile.reconciler import ReconcilerOptions
from controller.sources.versions import record_version

pytestmark = pytest.mark.engine

TIMEOUT = 15  # the stack's waits; also how long the never-met case takes
SLEEPER = {"command": ["sleep", "3600"], "init": True}


def waiting_stack(image: str, *, healthy_when: str) -> dict:
    """``db`` healthy once ``healthy_when`` exists in it; ``app`` waits for that."""
    return {"services": {
        "db": {"image": image, **SLEEPER,
               "healthcheck": {"test": ["CMD", "test", "-f", healthy_when],
                               "interval": "1s", "retries": 1000}},
        "app": {"image": image, **SLEEPER,
                "depends_on": {"db": {"condition": "service_healthy"}}},
    }}


@pytest.fixture
def setup(tmp_path: Path, engine_janitor, test_images):
    h = make_harness(tmp_path)
    h.worker = Worker(h.db, h.engine, worker_id="w", options=ReconcilerOptions(
        files_dir=tmp_path / "files", wait_timeout=TIMEOUT, yield_health_wait=True,
        follow_up_after=1, max_failures=1, progress_every=1))
    a, b = engine_janitor.project("waits"), engine_janitor.project("other")
    record_version(h.db, h.stack(a, waiting_stack(test_images.v1, healthy_when="/tmp/ok")),
                   root=tmp_path)
    record_version(h.db, h.stack(b, {"services": {"web": {"image": test_images.v1,
                                                          **SLEEPER}}}), root=tmp_path)
    yield h, a, b
    h.db.close()


def start_a_then_queue_b(h, a: str, b: str) -> tuple[Command, Command, list[Outcome]]:
    """A's APPLY runs on the only worker; once A's db exists (A waits for it), B's APPLY is
    queued. Returns both commands and the first outcome (the worker's first run_next)."""
    first = h.db.commands.enqueue(Command(stack_id=a, type=CommandType.APPLY_STACK_VERSION))
    outcomes: list[Outcome] = []
    worker = threading.Thread(target=lambda: outcomes.append(h.worker.run_next()))
    worker.start()
    deadline = time.monotonic() + 60
    while f"{a}-db-1" not in h.containers(a) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"{a}-db-1" in h.containers(a), "A's apply never created its db"
    other = h.db.commands.enqueue(Command(stack_id=b, type=CommandType.APPLY_STACK_VERSION))
    worker.join(timeout=TIMEOUT + 60)  # a safety net: the order below is what is asserted
    assert not worker.is_alive()
    return first, other, outcomes


def run_until(h, command_id: int) -> list[Outcome]:
    """Run the worker until ``command_id`` is finished (sleeping out a requeue's delay)."""
    outcomes: list[Outcome] = []
    deadline = time.monotonic() + TIMEOUT + 120
    while not h.db.commands.require(command_id).status.terminal:
        assert time.monotonic() < deadline, "the command never finished"
        outcome = h.worker.run_next()
        if outcome is None:
            time.sleep(0.2)
        else:
            outcomes.append(outcome)
    return outcomes


def test_the_other_stack_converges_while_a_condition_never_met_still_fails_as_before(setup):
    h, a, b = setup
    first, other, [outcome] = start_a_then_queue_b(h, a, b)
    # The first turn ended without A finishing: it went back to the queue for B.
    assert outcome.command.command_id == first.command_id
    assert outcome.command.status is CommandStatus.PENDING, outcome.error
    assert outcome.command.failures == 0
    assert h.db.commands.require(other.command_id).status is CommandStatus.PENDING
    b_turn = h.worker.run_next()
    assert b_turn.command.command_id == other.command_id
    assert b_turn.command.status is CommandStatus.DONE, b_turn.error
    assert f"{b}-web-1" in h.containers(b)
    assert not h.db.commands.require(first.command_id).status.terminal  # B went first
    run_until(h, first.command_id)
    final = h.db.commands.require(first.command_id)
    assert final.status is CommandStatus.FAILED
    assert final.error == (
        f"gave up after 1 failed attempts: db did not become service_healthy within {TIMEOUT}s")
    assert f"{a}-app-1" not in h.containers(a)
    lines = [line.message for line in h.db.command_logs.list(first.command_id)]
    assert any("other commands wait for a worker" in line for line in lines), lines


def test_a_condition_met_after_giving_way_converges(setup, docker_client):
    h, a, b = setup
    first, other, [outcome] = start_a_then_queue_b(h, a, b)
    assert outcome.command.status is CommandStatus.PENDING, outcome.error
    assert h.worker.run_next().command.command_id == other.command_id
    docker_client.containers.get(f"{a}-db-1").exec_run(["touch", "/tmp/ok"])
    [*_, done] = run_until(h, first.command_id)
    assert done.command.status is CommandStatus.DONE, done.error
    assert {f"{a}-db-1", f"{a}-app-1"} <= set(h.containers(a))
    stack = h.db.stacks.require(a)
    assert (stack.applied_version, stack.sync_status) == ("v1", "Synced")
