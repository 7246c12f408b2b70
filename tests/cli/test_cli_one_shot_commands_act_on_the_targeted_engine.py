"""``apply``, ``diff``, ``ps`` and ``logs`` act on the engine the stack targets, declared in the
engines file (``--engines``, ``STACKCTL_ENGINES``): ``diff`` plans a Swarm stack with the Swarm
planner (against the applied version), ``ps`` shows a Swarm stack's services and tasks, ``logs``
says it cannot read a Swarm stack's yet, and an engine the file does not declare is one error
naming it and the declared ones. The engines are not asked here (their ``ping``/``observe`` are
replaced); ``test_cli_one_shot_commands_on_named_engines.py`` does it on real ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.stacks import desired_stack
from typer.testing import CliRunner

from controller.backends.docker import Engine
from controller.backends.swarm.engine import SwarmEngine
from controller.backends.swarm.planner.service_spec import SPEC_HASH_LABEL, service_spec
from controller.cli import app
from controller.models.swarm import ObservedService, ObservedTask, SwarmSnapshot
from controller.sources.versions import record_version

runner = CliRunner()

V1 = {"services": {"web": {"image": "nginx:1.26"}}}
V2 = {"services": {"web": {"image": "nginx:1.27"}}}
NOT_DECLARED = (
    "engine 'prod' is not declared (declared: local; pass the engines file the controller runs"
    " with: --engines FILE or STACKCTL_ENGINES)"
)


@pytest.fixture(autouse=True)
def no_engines_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACKCTL_ENGINES", raising=False)


@pytest.fixture
def engines_file(tmp_path: Path) -> Path:
    path = tmp_path / "engines.yaml"
    path.write_text(
        "engines:\n  prod: {kind: swarm, host: 'tcp://127.0.0.1:9'}\n"
        "  edge: {host: 'tcp://127.0.0.1:9'}\n"
    )
    return path


@pytest.fixture
def applied(db: Any, tmp_path: Path) -> Any:
    """``shop`` v1 (nginx:1.26) applied on the swarm engine ``prod``."""
    v1 = desired_stack(tmp_path / "v1", "shop", V1, target={"engine": "prod"})
    record_version(db, v1, root=tmp_path)
    db.stacks.update("shop", applied_version="v1")
    return v1


def running_web(spec_of: Any) -> ObservedService:
    """``shop_web`` as Swarm runs it, made from ``spec_of``'s spec (its hash label)."""
    task = ObservedTask(
        id="t" * 25, slot=1, node="n" * 25, state="running", desired_state="running",
        error="", message="started", template="t1",
    )  # fmt: skip
    return ObservedService(
        id="s1", name="shop_web", service="web", version=4,
        spec_hash=service_spec(spec_of, "web")["Labels"][SPEC_HASH_LABEL],
        image="nginx:1.26", replicas=1, update_state="completed",
        update_message="update completed", template="t1", tasks=(task,),
    )  # fmt: skip


@pytest.fixture
def swarm(monkeypatch: pytest.MonkeyPatch, applied: Any) -> list[str]:
    """The swarm answers with ``shop_web`` running v1; returns the stacks it was asked for."""
    asked: list[str] = []

    def observe(self: SwarmEngine, stack: str, **_: Any) -> SwarmSnapshot:
        asked.append(f"{self.spec.name}:{stack}")
        return SwarmSnapshot(stack=stack, services=(running_web(applied),))

    monkeypatch.setattr(SwarmEngine, "ping", lambda self: None)
    monkeypatch.setattr(SwarmEngine, "observe", observe)
    return asked


def manifest(tmp: Path, compose: dict[str, Any]) -> Path:
    """The folder of ``shop``'s manifest targeting ``prod``."""
    desired_stack(tmp, "shop", compose, target={"engine": "prod"})
    return tmp / "manifests-shop"


def invoke(*args: str, db_path: Path, code: int) -> str:
    result = runner.invoke(app, [*args, "--db", str(db_path)])
    assert result.exit_code == code, result.output
    return result.output


def test_diff_plans_a_swarm_stack_with_the_swarm_planner_on_its_engine(
    swarm: list[str], engines_file: Path, db_path: Path, tmp_path: Path
) -> None:
    v2 = manifest(tmp_path / "v2", V2)
    out = invoke(
        "diff",
        str(v2),
        "--engines",
        str(engines_file),
        db_path=db_path,
        code=1,
    )
    assert swarm == ["prod:shop"]
    assert "shop: update_service shop_web: image changed" in out
    assert "recreate" not in out  # not the Docker planner's words
    assert 'image: "nginx:1.26" -> "nginx:1.27"' in out  # the field lines stay


def test_diff_of_an_unchanged_swarm_service_names_no_update(
    swarm: list[str], engines_file: Path, db_path: Path, tmp_path: Path
) -> None:
    out = invoke(
        "diff",
        str(manifest(tmp_path / "v1", V1)),
        "--engines",
        str(engines_file),
        db_path=db_path,
        code=1,
    )
    assert "update_service" not in out and "create_service" not in out
    assert "shop: create_network shop_default" in out  # the only thing the swarm lacks


def test_diff_of_a_stack_on_an_undeclared_engine_is_an_error(
    swarm: list[str], db_path: Path, tmp_path: Path
) -> None:
    v2 = manifest(tmp_path / "v2", V2)
    out = invoke("diff", str(v2), db_path=db_path, code=2)
    assert f"error: shop: {NOT_DECLARED}" in out
    assert swarm == []


def test_apply_without_the_engines_file_says_to_pass_it_and_records_nothing(
    db_path: Path, tmp_path: Path
) -> None:
    v2 = manifest(tmp_path / "v2", V2)
    out = invoke("apply", str(v2), db_path=db_path, code=1)
    assert f"error: shop: {NOT_DECLARED}" in out
    assert not db_path.exists()


def test_ps_of_a_swarm_stack_shows_its_services_and_tasks(
    swarm: list[str], engines_file: Path, db_path: Path
) -> None:
    out = invoke("ps", "shop", "--engines", str(engines_file), db_path=db_path, code=0)
    assert swarm == ["prod:shop"]
    lines = out.splitlines()
    assert lines[0] == "Services:" and "Tasks:" in lines
    web = next(line.split() for line in lines if line.strip().startswith("web "))
    assert web[:4] == ["web", "replicated", "1/1", "nginx:1.26"]
    task = next(line.split() for line in lines if line.strip().startswith("t" * 12))
    assert task[1:5] == ["web", "1", "n" * 12, "running"]

    data = json.loads(
        invoke("ps", "shop", "-o", "json", "--engines", str(engines_file), db_path=db_path, code=0)
    )
    assert [s["name"] for s in data["services"]] == ["shop_web"]
    assert [t["service"] for t in data["tasks"]] == ["web"]


def test_ps_and_logs_of_a_stack_on_an_undeclared_engine_are_an_error(
    applied: Any, db_path: Path
) -> None:
    for command in ("ps", "logs"):
        out = invoke(command, "shop", db_path=db_path, code=1)
        assert f"error: {NOT_DECLARED}" in out


def test_ps_and_logs_list_the_containers_of_the_named_docker_engine(
    monkeypatch: pytest.MonkeyPatch, engines_file: Path, db: Any, db_path: Path, tmp_path: Path
) -> None:
    record_version(
        db, desired_stack(tmp_path, "shop", V1, target={"engine": "edge"}), root=tmp_path
    )
    asked: list[str] = []

    def list_containers(engine: Engine, *, stack: str | None = None) -> list[Any]:
        asked.append(f"{engine.spec.name}:{stack}")
        return []

    monkeypatch.setattr(Engine, "ping", lambda self: None)
    monkeypatch.setattr("controller.backends.docker.containers.list_containers", list_containers)
    invoke("ps", "shop", "--engines", str(engines_file), db_path=db_path, code=0)
    out = invoke("logs", "shop", "--engines", str(engines_file), db_path=db_path, code=1)
    assert asked == ["edge:shop", "edge:shop"]
    assert "no container of stack 'shop' on the engine" in out
