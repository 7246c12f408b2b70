"""A suspended stack is left alone by the resync (issue 24, item 1).

A manifest with ``spec.suspend: true`` whose version was never applied (or was applied, then
suspended) got a RECONCILE at every round ("v1 is not applied (applied: None)"): with 10,000
of them the queue never drained. Now a round leaves every suspended stack alone, whichever way
it is suspended (its manifest, or ``stackctl suspend``), drifted or not, and a round over them
writes nothing to the database.
"""

from __future__ import annotations

import sqlite3

import pytest
from test_resync_queues_only_what_drifted import SLEEPER, dump, files

from controller.commands import operations
from controller.models import Command, CommandStatus, CommandType
from controller.reconcile.resync import Resync
from controller.sources.versions import record_version

pytestmark = pytest.mark.engine


def data_version(probe: sqlite3.Connection) -> int:
    """SQLite's mark of the commits other connections made to the file since ``probe``
    opened: it moves with any commit of the resync's (which writes through its own)."""
    return int(probe.execute("PRAGMA data_version").fetchone()[0])


def quiet(h, names: list[str]) -> None:
    """A round over ``names`` queues nothing and writes nothing: rows, files, and commits."""
    before_rows, before_files = dump(h), files(h)
    commands = h.db.commands.list(limit=500).items
    done = Resync(h.db, h.engine).round(names)
    assert (done.findings, done.queued) == ((), ()), [f.reasons for f in done.findings]
    assert h.db.commands.list(limit=500).items == commands
    assert dump(h) == before_rows
    assert files(h) == before_files


def test_a_stack_suspended_in_its_manifest_and_never_applied_gets_no_command(
        h, engine_janitor, test_images):
    name = engine_janitor.project("never")
    desired = h.stack(name, {"services": {"app": {"image": test_images.v1, **SLEEPER}}},
                      suspend=True)
    outcome = h.apply(desired)  # what the watcher queues: the suspended APPLY records, no more
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert h.containers(name) == {}
    stack = h.db.stacks.require(name)
    assert (stack.current_version, stack.applied_version) == ("v1", None)
    quiet(h, [name])
    quiet(h, [name])  # and the next round, and every one after


def test_a_stack_applied_then_suspended_in_its_manifest_gets_no_command(
        h, engine_janitor, test_images, docker_client):
    name = engine_janitor.project("later")
    compose = {"services": {"app": {"image": test_images.v1, **SLEEPER}}}
    assert h.apply(h.stack(name, compose)).command.status is CommandStatus.DONE
    assert h.apply(h.stack(name, compose, suspend=True)).command.status is CommandStatus.DONE
    stack = h.db.stacks.require(name)
    assert (stack.current_version, stack.applied_version) == ("v2", "v1")
    quiet(h, [name])
    docker_client.containers.get(f"{name}-app-1").remove(force=True)  # drift, held back
    quiet(h, [name])


def test_a_stack_suspended_by_the_operator_is_left_alone_even_when_it_drifted(
        h, engine_janitor, test_images, docker_client):
    name = engine_janitor.project("held")
    compose = {"services": {"app": {"image": test_images.v1, **SLEEPER}}}
    assert h.apply(h.stack(name, compose)).command.status is CommandStatus.DONE
    operations.suspend(h.db, name)
    assert h.worker.run_next().command.status is CommandStatus.DONE  # the suspend's RECONCILE
    docker_client.containers.get(f"{name}-app-1").remove(force=True)
    quiet(h, [name])


def test_a_round_over_suspended_and_converged_stacks_writes_nothing_and_commits_nothing(
        h, engine_janitor, test_images):
    """An ordinary converged stack next to a suspended one recorded but never applied (a kill
    lost its APPLY): nothing queued, no commit at all (SQLite's data_version)."""
    compose = {"services": {"app": {"image": test_images.v1, **SLEEPER}}}
    ordinary = engine_janitor.project("ok")
    assert h.apply(h.stack(ordinary, compose)).command.status is CommandStatus.DONE
    lost = engine_janitor.project("lost")
    record_version(h.db, h.stack(lost, compose, suspend=True), root=h.tmp)
    names = [ordinary, lost]
    probe = sqlite3.connect(h.db.path)
    try:
        before = data_version(probe)
        quiet(h, names)
        assert data_version(probe) == before
        # The probe sees a commit: a RECONCILE of the ordinary stack, run; then quiet again.
        h.db.commands.enqueue(Command(stack_id=ordinary, type=CommandType.RECONCILE))
        assert h.worker.run_next().command.status is CommandStatus.DONE
        assert data_version(probe) != before
        before = data_version(probe)
        quiet(h, names)
        assert data_version(probe) == before
    finally:
        probe.close()
