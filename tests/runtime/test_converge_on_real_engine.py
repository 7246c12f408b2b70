"""Convergence against a real Docker engine: create, idempotency, targeted recreates, scaling,
drift, images, secrets, teardown. Every stack is named by the janitor, which removes it."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
import yaml

from controller.models import CommandStatus, HealthStatus, SyncStatus
from controller.sources.loader import load_path

pytestmark = pytest.mark.engine

HEALTHY_WEB = {
    "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
    "init": True,
    "healthcheck": {
        "test": ["CMD", "timeout", "2", "wget", "-q", "-O-", "http://127.0.0.1:8080/"],
        "interval": "1s",
        "retries": 5,
    },
}
SLEEPER = {"command": ["sleep", "3600"], "init": True}


def fetch(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return response.read().decode()


def test_apply_creates_and_serves_then_reapply_changes_nothing(h, engine_janitor, test_images,
                                                               free_port):
    name = engine_janitor.project("shop")
    desired = h.stack(name, {"services": {
        "web": {"image": test_images.v1, "ports": [f"127.0.0.1:{free_port}:8080"], **HEALTHY_WEB},
        "worker": {"image": test_images.v1, **SLEEPER,
                   "depends_on": {"web": {"condition": "service_healthy"}}},
    }})
    first = h.apply(desired)
    assert first.command.status is CommandStatus.DONE, first.error
    assert "stackctl test image 1" in fetch(free_port)
    stack = h.db.stacks.require(name)
    assert (stack.applied_version, stack.sync_status, stack.health_status) == (
        "v1", SyncStatus.SYNCED, HealthStatus.HEALTHY)
    ids = h.containers(name)
    assert sorted(ids) == [f"{name}-web-1", f"{name}-worker-1"]
    assert h.db.stack_versions.require(name, "v1").runtime == {
        "web": [ids[f"{name}-web-1"]], "worker": [ids[f"{name}-worker-1"]]}
    logs = h.log_messages(first)
    assert any("wait web: worker depends on it (service_healthy)" in m for m in logs)

    h.engine.calls.reset()
    again = h.apply(desired)
    assert again.command.status is CommandStatus.DONE
    assert h.engine.calls.mutating == 0, h.engine.calls.counts
    assert h.containers(name) == ids
    assert any("in sync, nothing to do" in m for m in h.log_messages(again))


def test_changing_one_service_recreates_only_it(h, engine_janitor, test_images):
    name = engine_janitor.project("shop")
    services = {"web": {"image": test_images.v1, **SLEEPER, "environment": {"LOG_LEVEL": "info"}},
                "db": {"image": test_images.v1, **SLEEPER}}
    assert h.apply(h.stack(name, {"services": services})).command.status is CommandStatus.DONE
    before = h.containers(name)
    services["web"] = {**services["web"], "environment": {"LOG_LEVEL": "debug"}}
    outcome = h.apply(h.stack(name, {"services": services}))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    after = h.containers(name)
    assert after[f"{name}-db-1"] == before[f"{name}-db-1"]
    assert after[f"{name}-web-1"] != before[f"{name}-web-1"]
    assert [(s.kind.value, s.reason) for s in outcome.plan.changes] == [
        ("recreate", "environment LOG_LEVEL changed")]
    env = h.engine._api.inspect_container(after[f"{name}-web-1"])["Config"]["Env"]
    assert "LOG_LEVEL=debug" in env


def test_scaling_changes_only_the_replica_count(h, engine_janitor, test_images):
    name = engine_janitor.project("shop")
    svc = {"image": test_images.v1, **SLEEPER}
    h.apply(h.stack(name, {"services": {"worker": {**svc, "scale": 3}}}))
    three = h.containers(name)
    assert len(three) == 3
    h.engine.calls.reset()
    outcome = h.apply(h.stack(name, {"services": {"worker": {**svc, "scale": 2}}}))
    assert outcome.command.status is CommandStatus.DONE
    two = h.containers(name)
    assert two == {k: v for k, v in three.items() if not k.endswith("-3")}
    assert [s.reason for s in outcome.plan.changes] == ["replicas 3 -> 2"]
    assert h.engine.calls.counts["create_container"] == 0


def test_drift_is_corrected_and_logged(h, engine_janitor, test_images, docker_client):
    name = engine_janitor.project("shop")
    svc = {"image": test_images.v1, **SLEEPER, "restart": "always"}
    h.apply(h.stack(name, {"services": {"a": svc, "b": svc}}))
    ids = h.containers(name)
    docker_client.containers.get(ids[f"{name}-a-1"]).remove(force=True)
    docker_client.containers.get(ids[f"{name}-b-1"]).stop(timeout=1)
    outcome = h.reconcile(name)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert sorted((s.kind.value, s.target, s.reason) for s in outcome.plan.changes) == [
        ("create", f"{name}-a-1", "container missing"),
        ("start", f"{name}-b-1", "container is exited"),
    ]
    logs = h.log_messages(outcome)
    assert any(f"create {name}-a-1: container missing" in m for m in logs)
    assert h.engine.observe(name).containers[1].running


def test_image_change_recreates(h, engine_janitor, test_images, docker_client):
    name = engine_janitor.project("shop")
    h.apply(h.stack(name, {"services": {"web": {"image": test_images.v1, **SLEEPER}}}))
    outcome = h.apply(h.stack(name, {"services": {"web": {"image": test_images.v2, **SLEEPER}}}))
    assert outcome.command.status is CommandStatus.DONE
    [container] = h.engine.observe(name).containers
    out = docker_client.containers.get(container.id).exec_run(["cat", "/etc/stackctl-image"])
    assert out.output.decode().strip() == "2"


def test_missing_image_with_pull_policy_never_fails_before_changing_anything(
    h, engine_janitor, test_images
):
    name = engine_janitor.project("shop")
    outcome = h.apply(h.stack(name, {"services": {
        "web": {"image": "stackctl-test/absent:9", "pull_policy": "never", **SLEEPER}}}))
    assert outcome.command.status is CommandStatus.FAILED
    assert "image stackctl-test/absent:9 is not present and pull_policy is never" in (
        outcome.command.error)
    assert h.engine.observe(name).networks == ()


def test_secrets_and_configs_are_read_only_files(h, engine_janitor, test_images, docker_client,
                                                 tmp_path):
    name = engine_janitor.project("shop")
    folder = tmp_path / "manifests-secret"
    folder.mkdir()
    (folder / "token.txt").write_text("s3cret\n")
    (folder / "compose.yaml").write_text(
        f"name: {name}\nservices:\n"
        f"  app:\n    image: {test_images.v1}\n    command: [sleep, '3600']\n    init: true\n"
        "    secrets: [token]\n"
        "secrets:\n  token:\n    file: ./token.txt\n"
    )
    result = load_path(folder)
    assert not result.errors, [e.render() for e in result.errors]
    [desired] = result.stacks.values()
    outcome = h.apply(desired, root=folder)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    [container] = h.engine.observe(name).containers
    app = docker_client.containers.get(container.id)
    assert app.exec_run(["cat", "/run/secrets/token"]).output.decode() == "s3cret\n"
    assert app.exec_run(["sh", "-c", "echo x > /run/secrets/token"]).exit_code != 0


def test_delete_tears_down_and_keeps_volumes_unless_asked(h, engine_janitor, test_images):
    name = engine_janitor.project("shop")
    h.apply(h.stack(name, {
        "services": {"db": {"image": test_images.v1, **SLEEPER, "volumes": ["data:/data"]}},
        "volumes": {"data": {}},
    }))
    assert [v.key for v in h.engine.observe(name).volumes] == ["data"]
    outcome = h.delete(name)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    after = h.engine.observe(name)
    assert (after.containers, after.networks) == ((), ())
    assert [v.key for v in after.volumes] == ["data"]
    assert h.delete(name, volumes=True).command.status is CommandStatus.DONE
    assert h.engine.observe(name).volumes == ()
    assert h.db.stacks.require(name).health_status is HealthStatus.MISSING


def test_objects_without_our_labels_are_never_touched(h, engine_janitor, test_images,
                                                      docker_client):
    name = engine_janitor.project("shop")
    foreign = docker_client.containers.create(
        test_images.v1, ["sleep", "3600"], name=f"{name}-foreign",
        labels={"com.docker.compose.project": name, "com.docker.compose.service": "web"})
    # Same project, not ours: refused before any change unless adopted (issue 12; see
    # tests/runtime/test_adopting_a_docker_compose_project.py for the adoption).
    refused = h.apply(h.stack(name, {"services": {"web": {"image": test_images.v1, **SLEEPER}}}))
    assert refused.command.status is CommandStatus.FAILED
    assert f"containers {name}-foreign" in (refused.command.error or "")
    assert h.engine.observe(name).containers == ()
    h.delete(name)
    foreign.reload()
    assert foreign.status == "created"


def built_file(h, docker_client, folder: Path, name: str) -> str:
    """Apply the compose project in ``folder`` (one built service ``app``, image
    ``NAME-app:dev``) and return ``/etc/built`` from its container; everything is removed."""
    [desired] = load_path(folder).stacks.values()
    try:
        outcome = h.apply(desired, root=folder)
        assert outcome.command.status is CommandStatus.DONE, outcome.error
        [container] = h.engine.observe(name).containers
        out = docker_client.containers.get(container.id).exec_run(["cat", "/etc/built"])
        return out.output.decode().strip()
    finally:
        h.delete(name)
        docker_client.images.remove(f"{name}-app:dev", force=True)


def test_build_through_the_engine(h, engine_janitor, test_images, tmp_path, docker_client):
    name = engine_janitor.project("shop")
    folder = tmp_path / "manifests-build"
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "Dockerfile").write_text(
        f"FROM {test_images.v1}\nRUN echo built > /etc/built\n")
    (folder / "compose.yaml").write_text(
        f"name: {name}\nservices:\n  app:\n    build: ./app\n    image: {name}-app:dev\n"
        "    command: [sleep, '3600']\n    init: true\n")
    assert built_file(h, docker_client, folder, name) == "built"


def test_build_with_an_inline_dockerfile(h, engine_janitor, test_images, tmp_path, docker_client):
    name = engine_janitor.project("inline")
    folder = tmp_path / "manifests-inline"
    folder.mkdir()
    (folder / "compose.yaml").write_text(yaml.safe_dump({"name": name, "services": {"app": {
        "build": {"context": ".", "dockerfile_inline":
                  f"FROM {test_images.v1}\nRUN echo from-inline > /etc/built\n"},
        "image": f"{name}-app:dev", **SLEEPER}}}))
    assert built_file(h, docker_client, folder, name) == "from-inline"
    assert list(folder.iterdir()) == [folder / "compose.yaml"]  # nothing written beside it


def test_failed_recreate_leaves_the_old_container_running(h, engine_janitor, test_images):
    name = engine_janitor.project("shop")
    h.apply(h.stack(name, {"services": {"web": {"image": test_images.v1, **SLEEPER}}}))
    before = h.containers(name)
    missing_bind = {"type": "bind", "source": f"/nonexistent-{name}", "target": "/data",
                    "bind": {"create_host_path": False}}
    broken = {"image": test_images.v1, **SLEEPER, "volumes": [missing_bind]}
    outcome = h.apply(h.stack(name, {"services": {"web": broken}}))
    assert outcome.command.status is CommandStatus.FAILED
    assert "bind source path does not exist" in outcome.command.error
    assert h.db.stack_versions.require(name, "v2").status == "FAILED"
    assert h.db.stack_versions.require(name, "v1").status == "APPLIED"
    [container] = h.engine.observe(name).containers
    assert (container.id, container.running) == (before[f"{name}-web-1"], True)
    logs = h.log_messages(outcome)
    assert any(f"recreate {name}-web-1" in m and "failed after" in m for m in logs)


def test_what_the_adapter_cannot_carry_out_is_refused_before_anything_changes(
    h, engine_janitor, test_images
):
    name = engine_janitor.project("shop")
    outcome = h.apply(h.stack(name, {"services": {"web": {
        "image": test_images.v1, **SLEEPER,
        "healthcheck": {"test": ["CMD", "true"], "start_interval": "1s"}}}}))
    assert outcome.command.status is CommandStatus.FAILED
    assert outcome.command.error == (
        f"{name}.yaml: services.web.healthcheck.start_interval is not supported yet")
    after = h.engine.observe(name)
    assert (after.containers, after.networks) == ((), ())
