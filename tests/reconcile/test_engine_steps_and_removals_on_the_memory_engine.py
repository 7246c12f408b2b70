"""``controller.reconcile.engine_steps`` and ``controller.reconcile.removals`` on their own, on
the in-memory engine: every step carried out is one command log line with its reason and
duration (a failed one an ERROR line, and the error goes on); a delete removes what the
engine of the applied version runs (``local`` when none was applied), dependents first,
volumes only when asked; a move is approved by its command's payload only, and its old side
is torn down with the volumes kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.harness import make_harness
from helpers.stacks import desired_stack

from controller.backends.docker.planner import plan
from controller.backends.engines import Engines
from controller.backends.memory.engine import MemoryEngine
from controller.desired.engine_spec import EngineSpec
from controller.models import Command, CommandStatus, CommandType, HealthStatus, LogLevel
from controller.models.errors import PermanentError
from controller.reconcile.engine_steps import EngineSteps
from controller.reconcile.removals import Removals, approve_move
from controller.sources.versions import record_version

SLEEPER = {"image": "app:1", "command": ["sleep", "3600"]}


def steps_of(h: Any, echoed: list[str]) -> EngineSteps:
    return EngineSteps(
        h.db,
        files_dir=h.tmp / "files",
        parallelism=2,
        progress_every=10.0,
        timeout=lambda desired: 5.0,
        echo=echoed.append,
    )


def queued(h: Any, stack: str, kind: CommandType = CommandType.RECONCILE, **payload: Any) -> Any:
    return h.db.commands.enqueue(Command(stack_id=stack, type=kind, payload=payload))


def test_every_step_is_a_log_line_with_its_reason_and_duration(tmp_path: Path) -> None:
    engine = MemoryEngine()
    h = make_harness(tmp_path, engine=engine)  # type: ignore[arg-type]
    desired = h.stack("shop", {"services": {"app": SLEEPER}})
    record_version(h.db, desired, root=tmp_path)
    command, echoed = queued(h, "shop"), []
    the_plan = plan(desired, engine.observe_stack(desired))
    steps_of(h, echoed).execute(
        command,
        the_plan,
        check=lambda: None,
        desired=desired,
        version="v1",
        root=tmp_path,
        engine=engine,
    )
    lines = h.db.command_logs.list(command.command_id)
    assert [line.message.rsplit(" (", 1)[0] for line in lines] == [
        step.describe() for step in the_plan.steps
    ]
    assert all(line.data and "duration_ms" in line.data for line in lines)
    assert echoed == [f"[shop] {line.message}" for line in lines]


def test_a_failed_step_is_an_error_line_and_the_error_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = MemoryEngine()
    h = make_harness(tmp_path, engine=engine)  # type: ignore[arg-type]
    desired = h.stack("shop", {"services": {"app": SLEEPER}})

    def refuse(container: str) -> None:
        raise PermanentError(f"starting {container}: refused")

    monkeypatch.setattr(engine, "start", refuse)
    record_version(h.db, desired, root=tmp_path)
    command = queued(h, "shop")
    with pytest.raises(PermanentError, match="refused"):
        steps_of(h, []).execute(
            command,
            plan(desired, engine.observe_stack(desired)),
            check=lambda: None,
            desired=desired,
            version="v1",
            root=tmp_path,
            engine=engine,
        )
    last = h.db.command_logs.list(command.command_id)[-1]
    assert last.level is LogLevel.ERROR and "failed after" in last.message
    assert last.data["error"].endswith("refused")


def test_a_check_that_raises_stops_before_the_next_step(tmp_path: Path) -> None:
    engine = MemoryEngine()
    h = make_harness(tmp_path, engine=engine)  # type: ignore[arg-type]
    desired = h.stack("shop", {"services": {"app": SLEEPER}})

    def cancelled() -> None:
        raise PermanentError("cancelled")

    record_version(h.db, desired, root=tmp_path)
    with pytest.raises(PermanentError, match="cancelled"):
        steps_of(h, []).execute(
            queued(h, "shop"),
            plan(desired, engine.observe_stack(desired)),
            check=cancelled,
            desired=desired,
            version="v1",
            root=tmp_path,
            engine=engine,
        )
    assert engine.calls.mutating == 0


def test_a_delete_removes_dependents_first_and_keeps_volumes_unless_asked(
    tmp_path: Path,
) -> None:
    engine = MemoryEngine()
    h = make_harness(tmp_path, engine=engine)  # type: ignore[arg-type]
    services = {
        "db": {**SLEEPER, "volumes": ["data:/data"]},
        "web": {**SLEEPER, "depends_on": ["db"]},
    }
    desired = h.stack("shop", {"services": services, "volumes": {"data": {}}})
    assert h.apply(desired).error is None
    removals = Removals(h.db, Engines.of(engine), steps_of(h, []), root=tmp_path)
    the_plan = removals.delete(queued(h, "shop", CommandType.DELETE_STACK), lambda: None)
    targets = [s.target for s in the_plan.steps]
    assert targets.index("shop-web-1") < targets.index("shop-db-1")
    assert engine.running("shop") == {}
    assert list(engine.state.volumes) == ["shop_data"]
    stack = h.db.stacks.require("shop")
    assert stack.applied_version is None and stack.health_status is HealthStatus.MISSING


def test_a_delete_with_volumes_removes_them_too(tmp_path: Path) -> None:
    engine = MemoryEngine()
    h = make_harness(tmp_path, engine=engine)  # type: ignore[arg-type]
    desired = h.stack(
        "shop",
        {"services": {"db": {**SLEEPER, "volumes": ["data:/data"]}}, "volumes": {"data": {}}},
    )
    assert h.apply(desired).error is None
    outcome = h.delete("shop", volumes=True)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert engine.state.volumes == {}


def test_a_move_is_approved_only_by_its_command(tmp_path: Path) -> None:
    previous = desired_stack(tmp_path, "shop", {"services": {"app": SLEEPER}})
    plain = Command(stack_id="shop", type=CommandType.APPLY_STACK_VERSION)
    with pytest.raises(PermanentError, match="stackctl move shop"):
        approve_move(plain, previous, to="edge")
    approved = Command(
        stack_id="shop",
        type=CommandType.APPLY_STACK_VERSION,
        payload={"move": {"from": "local", "to": "edge"}},
    )
    approve_move(approved, previous, to="edge")  # no error
    with pytest.raises(PermanentError):
        approve_move(approved, previous, to="other")


def test_a_move_tears_the_old_side_down_and_keeps_its_volumes(tmp_path: Path) -> None:
    local, edge = MemoryEngine(), MemoryEngine(spec=EngineSpec(name="edge", host="tcp://e:2376"))
    engines = Engines(local=local)
    engines._engines["edge"] = edge  # a second engine, as the engines file would declare
    h = make_harness(tmp_path, engine=engines)  # type: ignore[arg-type]
    services = {"db": {**SLEEPER, "volumes": ["data:/data"]}}
    desired = h.stack("shop", {"services": services, "volumes": {"data": {}}})
    assert h.apply(desired).error is None
    removals = Removals(h.db, engines, steps_of(h, []), root=tmp_path)
    removals.move_away(queued(h, "shop"), desired, to="edge", check=lambda: None)
    assert local.running("shop") == {}
    assert list(local.state.volumes) == ["shop_data"]
