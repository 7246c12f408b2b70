"""``stackctl apply`` on a project Debian's docker-compose started: refused (exit 1, the foreign
objects named, nothing changed), then ``apply --adopt`` and ``delete --volumes``; and a Stack
manifest with ``spec.adopt: true``. Real engine."""

from __future__ import annotations

import os
import shutil

import docker
import pytest
import yaml
from helpers.docker_compose import SLEEPER, compose
from typer.testing import CliRunner

from controller.cli import app

pytestmark = [
    pytest.mark.engine,
    # CI (STACKCTL_REQUIRE_DOCKER=1; scripts/engine.sh installs it) fails instead of skipping.
    pytest.mark.skipif(
        shutil.which("docker-compose") is None
        and os.environ.get("STACKCTL_REQUIRE_DOCKER") != "1",
        reason="needs docker-compose (make engine installs it)",
    ),
]
runner = CliRunner()
COMPOSE = {
    "services": {"db": {"image": "stackctl-test/busybox:1", **SLEEPER, "volumes": ["data:/data"]}},
    "volumes": {"data": {}},
}


def stackctl(*args: str):
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def of_project(client, name):
    containers = sorted(c.name for c in client.containers.list(all=True, ignore_removed=True)
                        if c.name.startswith(name))
    networks = [n.name for n in client.networks.list() if n.name == f"{name}_default"]
    volumes = [v.name for v in client.volumes.list() if v.name == f"{name}_data"]
    return containers, networks, volumes


def test_apply_refuses_then_adopts_then_deletes_the_volume(
    tmp_path, engine_janitor, test_images, docker_client: docker.DockerClient
):
    name = engine_janitor.project("eco2")
    db = str(tmp_path / "stackctl.db")
    folder = tmp_path / "manifests" / name
    folder.mkdir(parents=True)
    (folder / "compose.yaml").write_text(yaml.safe_dump(COMPOSE))
    assert compose(folder, name, "up", "-d").returncode == 0
    before = of_project(docker_client, name)
    assert before == ([f"{name}_db_1"], [f"{name}_default"], [f"{name}_data"])

    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 1, out
    assert f"compose project {name} has objects stackctl did not create" in out
    assert f"containers {name}_db_1; networks {name}_default; volumes {name}_data" in out
    assert of_project(docker_client, name) == before

    code, out = stackctl("apply", str(folder), "--db", db, "--adopt")
    assert code == 0, out
    assert f"recreate {name}-db-1: adopt: created by docker compose" in out
    assert of_project(docker_client, name) == (
        [f"{name}-db-1"], [f"{name}_default"], [f"{name}_data"])

    code, out = stackctl("delete", name, "--db", db, "--volumes")
    assert code == 0, out
    assert of_project(docker_client, name) == ([], [], [])


def test_spec_adopt_takes_over_without_the_flag(
    tmp_path, engine_janitor, test_images, docker_client: docker.DockerClient
):
    name = engine_janitor.project("eco3")
    db = str(tmp_path / "stackctl.db")
    folder = tmp_path / "compose" / name
    folder.mkdir(parents=True)
    (folder / "compose.yaml").write_text(yaml.safe_dump(COMPOSE))
    assert compose(folder, name, "up", "-d").returncode == 0
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / f"{name}.yaml").write_text(yaml.safe_dump({
        "apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name},
        "spec": {"compose": COMPOSE, "adopt": True},
    }))

    code, out = stackctl("diff", str(manifests))
    assert code == 1, out
    assert "cannot apply" not in out
    assert f"recreate {name}-db-1: adopt: created by docker compose" in out

    code, out = stackctl("apply", str(manifests), "--db", db)
    assert code == 0, out
    assert of_project(docker_client, name) == (
        [f"{name}-db-1"], [f"{name}_default"], [f"{name}_data"])
    code, out = stackctl("delete", name, "--db", db, "--volumes")
    assert code == 0, out
    assert of_project(docker_client, name) == ([], [], [])
