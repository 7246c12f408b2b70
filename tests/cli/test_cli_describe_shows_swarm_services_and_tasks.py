"""``stackctl describe`` looks for the stack on the engine its desired (else applied) version
targets, declared in the engines file as ``run`` reads it (``--engines``, ``STACKCTL_ENGINES``).
A Swarm stack shows Services (mode, running/wanted, image, update) and Tasks in place of the
containers, and ``-o json`` gives the same rows under ``services`` and ``tasks``; an engine the
file does not declare is said on the Services line. The observation is replaced here
(``describe._observe``); ``test_describe_swarm_stack_on_a_real_swarm.py`` does it for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.stacks import desired_stack
from typer.testing import CliRunner

from controller.cli import app, describe
from controller.models import HealthStatus, SyncStatus
from controller.models.observed import ObservedContainer, Snapshot
from controller.models.swarm import ObservedService, ObservedTask, SwarmSnapshot
from controller.models.swarm_rows import service_rows, task_rows
from controller.sources.versions import record_version

runner = CliRunner()

COMPOSE = {"services": {"web": {"image": "nginx:alpine"}, "db": {"image": "postgres:16"}}}
NODE = "n0de" * 8


def task(id: str, *, slot: int | None, state: str = "running", desired: str = "running",
         error: str = "", template: str = "t1") -> ObservedTask:  # fmt: skip
    return ObservedTask(
        id=id, slot=slot, node=NODE, state=state, desired_state=desired, error=error,
        message=state, template=template,
    )  # fmt: skip


WEB = ObservedService(
    id="s1", name="shop_web", service="web", version=7, spec_hash="h", replicas=2,
    image="nginx:alpine@sha256:" + "ab" * 32, update_state="paused",
    update_message="update paused due to failure or early termination of task x",
    template="t1",
    tasks=(
        task("a" * 25, slot=2, state="failed", desired="shutdown", error="task: non-zero exit (1)",
             template="t0"),
        task("b" * 25, slot=1),
    ),
)  # fmt: skip
AGENT = ObservedService(
    id="s2", name="shop_agent", service="agent", version=3, spec_hash="h", replicas=None,
    image="busybox:1", template="t1", tasks=(task("c" * 25, slot=None),),
)  # fmt: skip
SNAPSHOT = SwarmSnapshot(stack="shop", services=(WEB, AGENT))


@pytest.fixture(autouse=True)
def no_engines_variable(monkeypatch):
    monkeypatch.delenv("STACKCTL_ENGINES", raising=False)


@pytest.fixture
def stacks(db, db_path, tmp_path):
    """``shop`` targets the engine ``prod``; ``plain`` names none; ``left`` targeted ``prod``
    and lost its manifest (``deletionPolicy: Orphan``: no desired version, still applied)."""
    for name in ("shop", "left"):
        stack = desired_stack(tmp_path / name, name, COMPOSE, target={"engine": "prod"})
        record_version(db, stack, root=tmp_path)
    record_version(db, desired_stack(tmp_path / "p", "plain", COMPOSE), root=tmp_path)
    db.stacks.update("left", applied_version="v1", current_version=None,
                     sync_status=SyncStatus.SYNCED, health_status=HealthStatus.HEALTHY)  # fmt: skip
    return db_path


@pytest.fixture
def engines_file(tmp_path: Path) -> Path:
    path = tmp_path / "engines.yaml"
    path.write_text("engines:\n  prod: {kind: swarm, host: 'tcp://127.0.0.1:9'}\n")
    return path


@pytest.fixture
def observed(monkeypatch) -> list[describe.ObserveTarget]:
    """What describe asked for; it answers ``SNAPSHOT`` for ``prod`` and a container for
    ``local``."""
    asked: list[describe.ObserveTarget] = []

    def observe(target: describe.ObserveTarget):
        asked.append(target)
        if target.spec.name == "prod":
            return SNAPSHOT, None
        container = ObservedContainer(id="c", name=f"{target.stack}-web-1", service="web",
                                      number=1, config_hash="h", image_id="sha256:00",
                                      state="running", version="v1")  # fmt: skip
        return Snapshot(stack=target.stack, containers=(container,)), None

    monkeypatch.setattr(describe, "_observe", observe)
    return asked


def invoke(*args: str, db_path: Path, env: dict[str, str] | None = None, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--db", str(db_path)], env=env)
    assert result.exit_code == code, result.output
    return result.output


def section(out: str, title: str, end: str) -> list[list[str]]:
    """The rows (cells split on 2+ spaces) of the table under ``title:``, header first."""
    body = out.split(f"\n{title}:", 1)[1].split(f"\n{end}:", 1)[0]
    return [[c for c in line.strip().split("  ") if c] for line in body.splitlines()[1:]]


def test_a_swarm_stack_shows_services_and_tasks(stacks, engines_file, observed):
    out = invoke("describe", "shop", "--engines", str(engines_file), db_path=stacks)
    assert [(t.stack, t.spec.name, t.spec.kind) for t in observed] == [("shop", "prod", "swarm")]
    assert "Engine:     prod" in out
    assert "CONTAINER" not in out
    services = section(out, "Services", "Tasks")
    assert [c.strip() for c in services[0]] == ["SERVICE", "MODE", "RUNNING", "IMAGE", "UPDATE"]
    rows = {r[0].strip(): [c.strip() for c in r] for r in services[1:]}
    assert rows["db"][:3] == ["db", "-", "missing"]
    assert rows["web"][:4] == ["web", "replicated", "1/2", "nginx:alpine"]
    assert rows["web"][4].startswith("paused: update paused due to failure")
    assert rows["agent (orphan)"][:4] == ["agent (orphan)", "global", "1/1", "busybox:1"]
    assert list(rows) == ["db", "web", "agent (orphan)"]  # desired (sorted), then orphans
    tasks = section(out, "Tasks", "Last commands")
    assert [c.strip() for c in tasks[0]] == [
        "TASK", "SERVICE", "SLOT", "NODE", "STATE", "DESIRED", "ERROR"]  # fmt: skip
    assert [[c.strip() for c in r] for r in tasks[1:]] == [
        ["a" * 12, "web", "2", NODE[:12], "failed", "shutdown", "task: non-zero exit (1)"],
        ["b" * 12, "web", "1", NODE[:12], "running", "running", "-"],
        ["c" * 12, "agent (orphan)", "-", NODE[:12], "running", "running", "-"],
    ]


def test_json_gives_the_same_rows(stacks, engines_file, observed):
    out = invoke("describe", "shop", "-o", "json", "--engines", str(engines_file), db_path=stacks)
    data = json.loads(out)
    assert data["engine"] == "prod" and data["engine_error"] is None
    assert [s["service"] for s in data["services"]] == ["db", "web", "agent (orphan)"]
    web = data["services"][1]
    assert web == {
        "service": "web", "name": "shop_web", "state": "present", "mode": "replicated",
        "running": 1, "wanted": 2, "image": WEB.image, "update_state": "paused",
        "update_message": WEB.update_message, "error": "task: non-zero exit (1)",
    }  # fmt: skip
    assert data["services"][0]["state"] == "missing"
    assert [t["id"] for t in data["tasks"]] == ["a" * 25, "b" * 25, "c" * 25]
    assert data["tasks"][0] == {
        "id": "a" * 25, "service": "web", "slot": 2, "node": NODE, "state": "failed",
        "desired_state": "shutdown", "message": "failed", "error": "task: non-zero exit (1)",
    }  # fmt: skip
    assert "containers" not in json.dumps(data["services"])


def test_the_engines_variable_is_read_as_run_reads_it(stacks, engines_file, observed):
    out = invoke("describe", "shop", db_path=stacks, env={"STACKCTL_ENGINES": str(engines_file)})
    assert [t.spec.name for t in observed] == ["prod"]
    assert "Tasks:" in out


def test_an_undeclared_engine_is_said_where_the_services_are(stacks, observed):
    out = invoke("describe", "shop", db_path=stacks)
    assert observed == []  # nothing was asked of any engine
    assert (
        "Services: engine 'prod' is not declared (declared: local; give describe the engines"
        " file the controller runs with: --engines FILE or STACKCTL_ENGINES)"
    ) in out
    rows = section(out, "Services", "Last commands")
    assert [[c.strip() for c in r][:3] for r in rows[1:]] == [
        ["db", "-", "unknown"], ["web", "-", "unknown"]]  # fmt: skip
    data = json.loads(invoke("describe", "shop", "-o", "json", db_path=stacks))
    assert "'prod' is not declared" in data["engine_error"]


def test_an_unreachable_swarm_engine_still_gives_its_layout(stacks, engines_file, monkeypatch):
    monkeypatch.setattr(describe, "_observe", lambda target: (None, "connection refused"))
    out = invoke("describe", "shop", "--engines", str(engines_file), db_path=stacks)
    assert "Services: engine unreachable: connection refused" in out
    rows = section(out, "Services", "Tasks")
    assert [[c.strip() for c in r][:3] for r in rows[1:]] == [
        ["db", "-", "unknown"], ["web", "-", "unknown"]]  # fmt: skip
    assert section(out, "Tasks", "Last commands")[1:] == []


def test_a_stack_without_desired_version_is_looked_for_where_it_was_applied(
    stacks, engines_file, observed
):
    out = invoke("describe", "left", "--engines", str(engines_file), db_path=stacks)
    assert [(t.stack, t.spec.name) for t in observed] == [("left", "prod")]
    assert "Engine:     -" in out  # the desired version's engine: there is none
    assert "web (orphan)" in out and "Tasks:" in out


def test_a_docker_stack_keeps_its_containers(stacks, engines_file, observed):
    out = invoke("describe", "plain", "--engines", str(engines_file), db_path=stacks)
    assert [(t.stack, t.spec.name, t.spec.kind) for t in observed] == [
        ("plain", "local", "docker")]  # fmt: skip
    assert "Tasks:" not in out
    rows = section(out, "Services", "Last commands")
    assert [c.strip() for c in rows[0]] == ["SERVICE", "CONTAINER", "STATE", "HEALTH", "VERSION"]
    assert [c.strip() for c in rows[2]][:3] == ["web", "plain-web-1", "running"]


def test_a_bad_engines_file_stops_describe_as_it_stops_run(stacks, tmp_path, observed):
    bad = tmp_path / "bad.yaml"
    bad.write_text("engines:\n  prod: {kind: swarm}\n")
    out = invoke("describe", "shop", "--engines", str(bad), db_path=stacks, code=2)
    assert "--engines" in out and "needs a host" in out
    assert observed == []


def test_the_rows_without_a_snapshot_say_unknown_and_list_no_tasks():
    rows = service_rows(["web"], None)
    assert [(r.service, r.state, r.tasks, r.update) for r in rows] == [
        ("web", "unknown", "unknown", "-")]  # fmt: skip
    assert task_rows(["web"], None) == []
    assert [r.state for r in service_rows([], SwarmSnapshot(stack="shop"))] == []
