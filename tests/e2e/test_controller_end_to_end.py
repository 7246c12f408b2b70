"""``stackctl run`` end to end on a real engine: people change files, stacks converge, history
is kept, nothing is lost."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from helpers.controller_process import ControllerProcess, wait_for

from controller.models import CommandStatus, CommandType

pytestmark = [pytest.mark.slow]


def write(root: Path, name: str, services: dict, file: str | None = None) -> None:
    manifest = {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name},
                "spec": {"compose": {"services": services}}}
    (root / (file or f"{name}.yaml")).write_text(yaml.safe_dump(manifest))


def sleeper(image: str, **extra) -> dict:
    return {"image": image, "command": ["sleep", "3600"], "init": True, **extra}


def running(docker_client, name: str) -> dict[str, str]:
    found = docker_client.containers.list(  # a container can go between list and inspect
        all=True, filters={"label": f"com.docker.compose.project={name}"}, ignore_removed=True)
    return {c.name: c.id for c in found if c.status == "running"}


def slow_to_converge(image: str) -> dict:
    """A service healthy after about 4 s and one waiting for it: an apply to interrupt."""
    slow = {"image": image, "init": True,
            "command": ["sh", "-c", "sleep 4; touch /tmp/ready; sleep 3600"],
            "healthcheck": {"test": ["CMD", "test", "-f", "/tmp/ready"], "interval": "1s"}}
    return {"slow": slow,
            "after": sleeper(image, depends_on={"slow": {"condition": "service_healthy"}})}


@pytest.fixture
def controller(root: Path, tmp_path: Path, engine_janitor):  # stops before the janitor cleans
    started: list[ControllerProcess] = []

    def start(**kwargs) -> ControllerProcess:
        process = ControllerProcess(root, tmp_path / "stackctl.db", **kwargs).start()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc and process.proc.poll() is None:
            process.stop()


def test_drop_edit_break_fix_delete(root, controller, engine_janitor, test_images, docker_client):
    name = engine_janitor.project("shop")
    # A second stack: deleting the only manifest of a root is refused (safety), not this one.
    write(root, engine_janitor.project("anchor"), {"app": sleeper(test_images.v1)})
    ctl = controller()
    write(root, name, {"web": sleeper(test_images.v1, environment={"LEVEL": "info"}),
                       "db": sleeper(test_images.v1)})
    first = wait_for(lambda: len(running(docker_client, name)) == 2 and running(
        docker_client, name), what="two containers")

    write(root, name, {"web": sleeper(test_images.v1, environment={"LEVEL": "debug"}),
                       "db": sleeper(test_images.v1)})
    second = wait_for(lambda: (r := running(docker_client, name)).get(f"{name}-web-1") not in (
        None, first[f"{name}-web-1"]) and r, what="web recreated")
    assert second[f"{name}-db-1"] == first[f"{name}-db-1"], "db must not be recreated"

    (root / f"{name}.yaml").write_text("kind: Stack\nmetadata: {name: " + name + "\n")
    with ctl.db() as db:
        event = wait_for(lambda: [e for e in db.events.list(stack_id=name).items
                                  if e.reason == "ManifestInvalid"], what="ManifestInvalid")
        assert f"{name}.yaml:" in event[0].message
    assert running(docker_client, name) == second

    write(root, name, {"web": sleeper(test_images.v1, environment={"LEVEL": "debug"}),
                       "db": sleeper(test_images.v1)})
    (root / f"{name}.yaml").unlink()
    wait_for(lambda: not running(docker_client, name), what="the stack removed")
    with ctl.db() as db:
        types = [c.type for c in db.commands.list(stack_id=name).items]
        assert types[0] is CommandType.DELETE_STACK
        assert [v.version for v in db.stack_versions.list(name)] == ["v1", "v2"]
    assert ctl.stop() == 0
    assert "controller stopped" in ctl.log.read_text()


def test_container_removed_by_hand_comes_back_at_resync(root, controller, engine_janitor,
                                                        test_images, docker_client):
    name = engine_janitor.project("heal")
    ctl = controller(resync=2)
    write(root, name, {"app": sleeper(test_images.v1)})
    before = wait_for(lambda: running(docker_client, name), what="the container")
    with ctl.db() as db:  # drift after convergence: a removal during the first apply is not that
        wait_for(lambda: (stack := db.stacks.get(name)) and stack.applied_version == "v1",
                 what="v1 applied")
    docker_client.containers.get(before[f"{name}-app-1"]).remove(force=True)
    after = wait_for(lambda: running(docker_client, name), what="the container back")
    assert after[f"{name}-app-1"] != before[f"{name}-app-1"]
    with ctl.db() as db:  # a step's line is written when the step ends, just after the start

        def logs() -> list[str]:
            return [line.message for c in db.commands.list(stack_id=name).items
                    for line in db.command_logs.list(c.command_id)]

        wait_for(lambda: any(f"create {name}-app-1: container missing" in m for m in logs()),
                 what="the create step's log line saying why")


def test_sigkill_mid_apply_then_restart_converges(root, controller, engine_janitor, test_images,
                                                  docker_client):
    name = engine_janitor.project("kill")
    ctl = controller()
    write(root, name, slow_to_converge(test_images.v1))
    # Killed mid-apply: after its first log line, not merely after the claim. The claim (RUNNING,
    # attempts 1) and the first line ("started (attempt 1)") are two commits a few ms apart; a
    # SIGKILL between them is legitimate and leaves attempt 1 with no line of its own: the
    # restart's "stopped without finishing ...; attempt 2 next" accounts for it.
    with ctl.db() as db:
        def started() -> list[str]:
            [command] = db.commands.list(stack_id=name, status="RUNNING").items or [None]
            lines = db.command_logs.list(command.command_id) if command else []
            return [line.message for line in lines if "started (attempt 1)" in line.message]
        wait_for(started, what="the apply to be under way")
    assert ctl.stop(signal.SIGKILL) == -signal.SIGKILL

    again = controller()
    wait_for(lambda: len(running(docker_client, name)) == 2, what="convergence after restart")
    with again.db() as db:
        def done():
            return [c for c in db.commands.list(stack_id=name).items
                    if c.status is CommandStatus.DONE]
        [command] = wait_for(done, what="the command DONE")
        assert command.attempts == 2  # killed in the first, done in the second
        messages = [line.message for line in db.command_logs.list(command.command_id)]
    # The line written before the SIGKILL is still there, once; the attempts are numbered on.
    assert sum("started (attempt 1)" in m for m in messages) == 1
    assert any("stopped without finishing" in m and "attempt 2 next" in m for m in messages)
    assert sum("started (attempt 2)" in m for m in messages) == 1


def test_http_api_served_by_stackctl_run(root, controller, engine_janitor, test_images,
                                         free_port, monkeypatch):
    monkeypatch.setenv("STACKCTL_API_TOKEN", "s3cret")
    name = engine_janitor.project("api")
    write(root, name, {"app": sleeper(test_images.v1)})
    controller(extra=("--api", f"127.0.0.1:{free_port}"))
    base = f"http://127.0.0.1:{free_port}"
    with httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/healthz").status_code == 200
        ready = wait_for(lambda: http.get("/readyz").status_code == 200 and http.get("/readyz"),
                         what="readiness")
        assert ready.json() == {
            "database": True,
            "engine": True,
            "watcher": True,
            "repositories": True,  # none followed: none failing
        }
        assert http.get(f"/api/v1/stacks/{name}").status_code == 401  # a token: reads need it
        auth = {"Authorization": "Bearer s3cret"}
        stack = wait_for(lambda: (r := http.get(f"/api/v1/stacks/{name}", headers=auth))
                         .status_code == 200 and r.json(), what="the stack in the API")
        assert stack["name"] == name
        assert http.post(f"/api/v1/stacks/{name}/sync").status_code == 401
        accepted = http.post(f"/api/v1/stacks/{name}/sync",
                             headers={"Authorization": "Bearer s3cret"})
        assert accepted.status_code == 202
        wait_for(lambda: "stackctl_engine_calls" in http.get("/metrics").text
                 and 'operation="list_containers"' in http.get("/metrics").text,
                 what="engine calls in the metrics")


def test_second_controller_on_the_same_database_refuses(root, controller, tmp_path,
                                                       engine_janitor):
    controller()
    second = subprocess.run(
        [sys.executable, "-m", "controller", "run", "--manifests", str(root), "--db",
         str(tmp_path / "stackctl.db")], capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert "another stackctl run holds" in second.stderr


def test_burst_of_writes_gives_one_or_two_versions(root, controller, engine_janitor, test_images):
    name = engine_janitor.project("burst")
    # A quiet time of 200 ms ends a burst (the default, 50 ms, is tuned for latency): on a
    # starved CPU the writing loop itself can pause for longer than 50 ms between writes.
    ctl = controller(extra=("--no-api", "--debounce", "200"))
    for n in range(50):
        write(root, name, {"app": sleeper(test_images.v1, environment={"N": str(n)})})
    with ctl.db() as db:
        wait_for(lambda: db.stacks.get(name) and db.stack_versions.latest(name).compose
                 .services["app"]["environment"] == {"N": "49"}, what="the last write recorded")
        assert 1 <= len(db.stack_versions.list(name)) <= 2


def test_sigterm_mid_apply_requeues_and_exits_zero(root, controller, engine_janitor, test_images,
                                                   docker_client):
    name = engine_janitor.project("term")
    ctl = controller()
    write(root, name, slow_to_converge(test_images.v1))
    with ctl.db() as db:
        [running_command] = wait_for(
            lambda: db.commands.list(stack_id=name, status="RUNNING").items, what="the apply")
    assert ctl.stop(signal.SIGTERM) == 0
    with ctl.db() as db:
        requeued = db.commands.require(running_command.command_id)
        assert requeued.status is CommandStatus.PENDING
        assert "controller is stopping" in requeued.error
    controller()
    wait_for(lambda: len(running(docker_client, name)) == 2, what="convergence after restart")


def test_controller_without_an_engine_keeps_running_and_retries(root, tmp_path, monkeypatch):
    """No engine (DOCKER_HOST points nowhere): the controller starts, records the version, and
    its command waits for the engine with backoff instead of the process dying."""
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    write(root, "lonely", {"app": sleeper("img:1")})
    ctl = ControllerProcess(root, tmp_path / "stackctl.db").start()
    try:
        with ctl.db() as db:
            [command] = wait_for(
                lambda: [c for c in db.commands.list(stack_id="lonely").items if c.failures],
                what="a retried command")
            assert command.status is CommandStatus.PENDING
            assert "connecting to the Docker engine" in command.error
            assert "Connection refused" in command.error
            assert db.stack_versions.require("lonely", "v1")
        assert ctl.proc.poll() is None
    finally:
        assert ctl.stop() == 0


def test_two_workers_converge_two_stacks_at_once(root, controller, engine_janitor, test_images,
                                                 docker_client):
    first, second = engine_janitor.project("one"), engine_janitor.project("two")
    ctl = controller(extra=("--no-api", "--workers", "2"))
    write(root, first, slow_to_converge(test_images.v1))
    write(root, second, slow_to_converge(test_images.v1))
    with ctl.db() as db:
        both = wait_for(lambda: len(r := db.commands.list(status="RUNNING").items) == 2 and r,
                        what="two commands running together")
        assert {c.stack_id for c in both} == {first, second}
    for name in (first, second):
        wait_for(lambda name=name: len(running(docker_client, name)) == 2, what=f"{name} up")
