"""The resync and the reconciler on the in-memory engine (no Docker): a converged stack costs a
round nothing, drift and a health change queue one RECONCILE that says why, an engine that does
not answer ends the round; the reconciler converges, re-applies with zero mutating calls, holds
a suspended stack back, and records what runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.harness import make_harness

from controller.backends.memory.engine import MemoryEngine
from controller.models import CommandStatus, HealthStatus, SyncStatus
from controller.models.errors import TransientError
from controller.reconcile.resync import Resync

SLEEPER = {"image": "app:1", "command": ["sleep", "3600"]}


def converged(tmp_path: Path, **spec: object) -> tuple[MemoryEngine, object]:
    engine = MemoryEngine()
    h = make_harness(tmp_path, engine=engine)  # type: ignore[arg-type]
    desired = h.stack("shop", {"services": {"app": SLEEPER, "db": SLEEPER}}, **spec)
    outcome = h.apply(desired)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    return engine, h


def test_a_converged_stack_costs_a_round_nothing(tmp_path: Path) -> None:
    engine, h = converged(tmp_path)
    engine.calls.reset()
    found = Resync(h.db, engine).round(["shop"])  # type: ignore[attr-defined]
    assert found.findings == () and found.queued == ()
    assert engine.calls.mutating == 0


def test_drift_queues_a_reconcile_that_says_why(tmp_path: Path) -> None:
    engine, h = converged(tmp_path)
    engine.kill("shop-db-1")
    found = Resync(h.db, engine).round(["shop"])  # type: ignore[attr-defined]
    assert len(found.queued) == 1
    assert any("drift: create shop-db-1" in r for r in found.findings[0].reasons)
    outcome = h.worker.run_next()  # type: ignore[attr-defined]
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert engine.running("shop") == {"shop-app-1": "running", "shop-db-1": "running"}


def test_a_health_change_is_found(tmp_path: Path) -> None:
    engine, h = converged(tmp_path)
    engine.set_state("shop-app-1", state="exited", exit_code=3)
    found = Resync(h.db, engine).round(["shop"])  # type: ignore[attr-defined]
    assert found.findings and found.findings[0].stack == "shop"


def test_an_engine_that_does_not_answer_ends_the_round(tmp_path: Path) -> None:
    engine, h = converged(tmp_path)
    engine.down = True
    with pytest.raises(TransientError):
        Resync(h.db, engine).round(["shop"])  # type: ignore[attr-defined]


def test_reapplying_costs_no_mutating_call_and_records_what_runs(tmp_path: Path) -> None:
    engine, h = converged(tmp_path)
    stack = h.db.stacks.require("shop")  # type: ignore[attr-defined]
    assert stack.health_status is HealthStatus.HEALTHY
    assert stack.sync_status is SyncStatus.SYNCED
    version = h.db.stack_versions.require("shop", stack.applied_version)  # type: ignore[attr-defined]
    ids = {c.id for c in engine.observe("shop").containers}
    assert {i for found in version.runtime.values() for i in found} == ids
    engine.calls.reset()
    again = h.reconcile("shop")  # type: ignore[attr-defined]
    assert again.command.status is CommandStatus.DONE, again.error
    assert engine.calls.mutating == 0


def test_a_suspended_stack_is_held_back(tmp_path: Path) -> None:
    engine, h = converged(tmp_path)
    engine.kill("shop-app-1")
    desired = h.stack("shop", {"services": {"app": SLEEPER, "db": SLEEPER}}, suspend=True)  # type: ignore[attr-defined]
    outcome = h.apply(desired)  # type: ignore[attr-defined]
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert "shop-app-1" not in engine.running("shop")
    assert h.db.stacks.require("shop").sync_status is SyncStatus.SUSPENDED  # type: ignore[attr-defined]
    assert "[shop] suspended: nothing changes at runtime (1 changes held back)" in h.lines  # type: ignore[attr-defined]
