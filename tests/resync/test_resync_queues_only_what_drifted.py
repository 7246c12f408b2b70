"""A resync round observes the engine once and queues a RECONCILE only for a stack that needs
work, its log saying why; a round where nothing drifted writes nothing at all (issue 13, item 1).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from controller.models import Command, CommandStatus, CommandType, HealthStatus
from controller.reconcile.resync import Resync

pytestmark = pytest.mark.engine

SLEEPER = {"command": ["sleep", "3600"], "init": True}


def files(h) -> dict[str, tuple[int, int]]:
    """(size, mtime) of the database and its write-ahead log: any write moves one of them."""
    found = {}
    for suffix in ("", "-wal"):
        path = Path(str(h.db.path) + suffix)
        if path.exists():
            stat = os.stat(path)
            found[suffix] = (stat.st_size, stat.st_mtime_ns)
    return found


def dump(h) -> list[str]:
    with h.db.reading() as conn:
        return list(conn.iterdump())


@pytest.fixture
def two(h, engine_janitor, test_images):
    """Two converged stacks, a and b."""
    names = []
    for suffix in ("a", "b"):
        name = engine_janitor.project(suffix)
        desired = h.stack(name, {"services": {"app": {"image": test_images.v1, **SLEEPER},
                                              "side": {"image": test_images.v1, **SLEEPER}}})
        assert h.apply(desired).command.status is CommandStatus.DONE
        names.append(name)
    return names


def test_a_round_without_drift_writes_nothing_and_lists_the_engine_once(h, two):
    before_files, before_rows = files(h), dump(h)
    h.engine.calls.reset()
    done = Resync(h.db, h.engine).round(two)
    assert (done.stacks, done.findings, done.queued) == (2, (), ())
    assert dump(h) == before_rows
    assert files(h) == before_files
    # One list of each kind for the whole engine, nothing inspected (all running), no change.
    assert dict(h.engine.calls.counts) == {
        "list_containers": 1, "list_networks": 1, "list_volumes": 1, "list_images": 1}


def test_a_container_removed_by_hand_gets_a_reconcile_whose_log_says_why(
        h, two, docker_client):
    a, _ = two
    docker_client.containers.get(f"{a}-side-1").remove(force=True)
    resync = Resync(h.db, h.engine)
    done = resync.round(two)
    assert [f.stack for f in done.findings] == [a]
    [queued] = done.queued
    command = h.db.commands.require(queued)
    assert command.type is CommandType.RECONCILE
    assert command.payload["reason"] == f"resync: drift: create {a}-side-1: container missing"
    lines = [line.message for line in h.db.command_logs.list(queued)]
    assert lines == [f"resync: drift: create {a}-side-1: container missing"]

    outcome = h.worker.run_next()
    assert outcome is not None and outcome.command.status is CommandStatus.DONE
    assert f"{a}-side-1" in h.containers(a)
    before = dump(h)
    assert resync.round(two).queued == ()  # healed: the next round writes nothing
    assert dump(h) == before


def test_a_stopped_container_and_a_stale_health_are_found(h, two, docker_client):
    a, b = two
    docker_client.containers.get(f"{a}-app-1").stop(timeout=1)
    h.db.stacks.update(b, health_status=HealthStatus.DEGRADED)  # recorded, not what runs
    h.engine.calls.reset()
    done = Resync(h.db, h.engine).round(two)
    found = {f.stack: f.reasons for f in done.findings}
    assert found == {
        a: (f"drift: start {a}-app-1: container is exited",),
        b: ("health: recorded Degraded, observed Healthy",),
    }
    assert h.engine.calls.counts["inspect_container"] == 1  # only the stopped one
    for _ in done.queued:
        assert h.worker.run_next().command.status is CommandStatus.DONE
    assert h.db.stacks.require(b).health_status is HealthStatus.HEALTHY
    assert Resync(h.db, h.engine).round(two).queued == ()


def test_busy_stacks_are_left_alone_and_failed_ones_tried_again(h, two):
    a, b = two
    pending = h.db.commands.enqueue(Command(stack_id=a, type=CommandType.RECONCILE))
    failed = h.db.commands.enqueue(Command(stack_id=b, type=CommandType.RECONCILE))
    claimed = h.db.commands.claim(worker_id="someone")
    assert claimed.command_id == pending.command_id  # a is RUNNING now
    h.db.commands.fail(claimed.command_id, error="boom", worker_id="someone")
    claimed = h.db.commands.claim(worker_id="someone")
    h.db.commands.fail(claimed.command_id, error="boom", worker_id="someone")
    assert claimed.command_id == failed.command_id
    h.db.commands.enqueue(Command(stack_id=a, type=CommandType.RECONCILE))  # a: pending again
    done = Resync(h.db, h.engine).round(two)
    assert (done.stacks, done.skipped) == (1, 1)
    assert [(f.stack, f.reasons) for f in done.findings] == [
        (b, ("its last command failed: it is tried again",))]


def test_a_periodic_pull_policy_is_due_once_its_period_passed(h, engine_janitor, test_images):
    name = engine_janitor.project("daily")
    desired = h.stack(name, {"services": {"app": {"image": test_images.v1, **SLEEPER,
                                                  "pull_policy": "daily"}}})
    assert h.apply(desired).command.status is CommandStatus.DONE
    assert Resync(h.db, h.engine).round([name]).queued == ()  # converged just now
    real = h.db.clock
    h.db.clock = lambda: real() + timedelta(hours=25)
    try:
        done = Resync(h.db, h.engine).round([name])
    finally:
        h.db.clock = real
    (finding,) = done.findings
    assert finding.reasons == ("pull_policy: daily: the images older than that are pulled",)
    assert len(done.queued) == 1
