"""The container executor (``controller.backends.docker.executor``) on the in-memory engine:
the order it carries a plan out in, Compose's recreate (the old container kept when its
replacement cannot be made), a name held by a leftover of the stack freed, and the waits of
``depends_on`` conditions. No Docker: ``MemoryEngine`` answers as an engine would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.stacks import desired_stack

from controller.backends.docker.executor import ExecutionContext, Executor
from controller.backends.docker.planner import Plan, Step, StepKind, plan
from controller.backends.memory.engine import MemoryEngine
from controller.desired import DesiredStack
from controller.models.errors import NameInUseError, PermanentError, TransientError

SLEEPER = {"image": "app:1", "command": ["sleep", "3600"]}


def stack(tmp_path: Path, services: dict[str, Any], **compose: Any) -> DesiredStack:
    return desired_stack(tmp_path, "shop", {"services": services, **compose})


def run(engine: MemoryEngine, desired: DesiredStack, tmp_path: Path, **ctx: Any) -> list[Any]:
    """Plan on what the engine has, carry it out; the steps reported, in order."""
    done: list[Any] = []
    the_plan = plan(desired, engine.observe_stack(desired))
    context = ExecutionContext(
        desired=desired, version="v1", root=tmp_path, files_dir=tmp_path / "files", **ctx
    )
    Executor(engine, context, on_step=lambda step, secs, err: done.append((step, err))).run(
        the_plan
    )
    return done


def test_networks_first_then_each_level_then_its_waits(tmp_path: Path) -> None:
    engine = MemoryEngine()
    services = {
        "db": {**SLEEPER, "networks": ["back"]},
        "web": {**SLEEPER, "networks": ["back"], "depends_on": ["db"]},
    }
    desired = stack(tmp_path, services, networks={"back": {}})
    done = run(engine, desired, tmp_path)
    kinds = [(s.kind, s.service) for s, _ in done]
    assert kinds[0] == (StepKind.CREATE_NETWORK, None)
    db_start = kinds.index((StepKind.CREATE, "db"))
    web_start = kinds.index((StepKind.CREATE, "web"))
    assert db_start < kinds.index((StepKind.WAIT, "db")) < web_start
    assert engine.running("shop") == {"shop-db-1": "running", "shop-web-1": "running"}
    assert all(err is None for _, err in done)


def test_an_unchanged_stack_costs_no_mutating_call(tmp_path: Path) -> None:
    engine = MemoryEngine()
    desired = stack(tmp_path, {"app": SLEEPER})
    run(engine, desired, tmp_path)
    engine.calls.reset()
    assert run(engine, desired, tmp_path) == []
    assert engine.calls.mutating == 0


def test_a_recreate_replaces_the_container_under_the_same_name(tmp_path: Path) -> None:
    engine = MemoryEngine()
    run(engine, stack(tmp_path, {"app": {**SLEEPER, "environment": {"A": "1"}}}), tmp_path)
    before = engine.container_state("shop-app-1")
    changed = stack(tmp_path, {"app": {**SLEEPER, "environment": {"A": "2"}}})
    done = run(engine, changed, tmp_path)
    assert [s.kind for s, _ in done] == [StepKind.RECREATE]
    after = engine.container_state("shop-app-1")
    assert before is not None and after is not None
    assert after.id != before.id and after.state == "running"


def test_a_replacement_that_cannot_be_made_keeps_the_old_container(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = MemoryEngine()
    run(engine, stack(tmp_path, {"app": {**SLEEPER, "environment": {"A": "1"}}}), tmp_path)
    old = engine.container_state("shop-app-1")

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise PermanentError("creating container: refused")

    monkeypatch.setattr(engine, "create_container", refuse)
    with pytest.raises(PermanentError, match="refused"):
        run(engine, stack(tmp_path, {"app": {**SLEEPER, "environment": {"A": "2"}}}), tmp_path)
    assert engine.container_state("shop-app-1") == old


def test_a_name_held_by_a_leftover_of_the_stack_is_freed(tmp_path: Path) -> None:
    engine = MemoryEngine()
    desired = stack(tmp_path, {"app": SLEEPER})
    run(engine, desired, tmp_path)
    create = Step(StepKind.CREATE, "shop-app-1", "test", service="app", number=1)
    done: list[Any] = []
    context = ExecutionContext(desired=desired, version="v2", root=tmp_path, files_dir=tmp_path)
    Executor(engine, context, on_step=lambda step, secs, err: done.append(step)).run(
        Plan("shop", (create,), (), (("app",),))
    )
    assert [s.kind for s in done] == [StepKind.REMOVE, StepKind.CREATE]
    assert "a leftover container of this stack holds the name" in done[0].reason
    assert engine.running("shop") == {"shop-app-1": "running"}


def test_a_name_held_by_another_stack_is_never_touched(tmp_path: Path) -> None:
    engine = MemoryEngine()
    other = desired_stack(tmp_path, "other", {"services": {"app": SLEEPER}})
    run(engine, other, tmp_path)
    engine.rename("other-app-1", "shop-app-1")
    desired = stack(tmp_path, {"app": SLEEPER})
    with pytest.raises(NameInUseError):
        run(engine, desired, tmp_path)
    assert engine.owner("shop-app-1") == "other"


def test_service_healthy_waits_for_the_healthcheck(tmp_path: Path) -> None:
    engine = MemoryEngine()
    check = {"test": ["CMD", "true"], "interval": "1s"}
    services = {
        "db": {**SLEEPER, "healthcheck": check},
        "web": {**SLEEPER, "depends_on": {"db": {"condition": "service_healthy"}}},
    }
    done = run(engine, stack(tmp_path, services), tmp_path)
    assert (StepKind.WAIT, "db") in [(s.kind, s.service) for s, _ in done]
    assert engine.running("shop") == {"shop-db-1": "running", "shop-web-1": "running"}


def test_service_healthy_without_a_healthcheck_is_refused(tmp_path: Path) -> None:
    engine = MemoryEngine()
    services = {
        "db": SLEEPER,
        "web": {**SLEEPER, "depends_on": {"db": {"condition": "service_healthy"}}},
    }
    with pytest.raises(PermanentError, match="has no healthcheck"):
        run(engine, stack(tmp_path, services), tmp_path)


def test_a_dependency_that_never_gets_healthy_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = MemoryEngine()
    check = {"test": ["CMD", "true"], "interval": "1s"}
    services = {
        "db": {**SLEEPER, "healthcheck": check},
        "web": {**SLEEPER, "depends_on": {"db": {"condition": "service_healthy"}}},
    }
    real_start = engine.start

    def start_starting(container: str) -> None:
        real_start(container)
        engine.set_state(container, health="starting")

    monkeypatch.setattr(engine, "start", start_starting)
    with pytest.raises(TransientError, match="did not become service_healthy"):
        run(engine, stack(tmp_path, services), tmp_path, wait_timeout=0.3)
    assert "shop-web-1" not in engine.running("shop")
