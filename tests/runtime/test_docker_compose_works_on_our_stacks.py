"""Debian's docker-compose (1.29.2) on a stack stackctl converged, on the real engine: it reads
our labels without crashing, and what stackctl does after `docker-compose up` recreated it
(docs/compose.md, "Living with docker compose")."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from helpers.docker_compose import SLEEPER, compose

from controller.models import CommandStatus
from controller.sources.loader import load_path

pytestmark = [
    pytest.mark.engine,
    # CI (STACKCTL_REQUIRE_DOCKER=1; scripts/engine.sh installs it) fails instead of skipping.
    pytest.mark.skipif(
        shutil.which("docker-compose") is None
        and os.environ.get("STACKCTL_REQUIRE_DOCKER") != "1",
        reason="needs docker-compose (make engine installs it)",
    ),
]



def project_folder(root: Path, name: str, image: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    compose = {"services": {
        "web": {"image": image, **SLEEPER},
        "worker": {"image": image, **SLEEPER, "depends_on": ["web"]},
    }}
    (folder / "compose.yaml").write_text(yaml.safe_dump(compose))
    return folder


def converge(h, root: Path, name: str):
    desired = load_path(root).stacks[name]
    outcome = h.apply(desired, root=root)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    return outcome


def test_our_containers_carry_every_compose_label(h, engine_janitor, test_images, docker_client):
    root = h.tmp / "manifests"
    name = engine_janitor.project("labels")
    folder = project_folder(root, name, test_images.v1)
    converge(h, root, name)
    labels = docker_client.containers.get(f"{name}-worker-1").labels
    assert labels["com.docker.compose.project"] == name
    assert labels["com.docker.compose.service"] == "worker"
    assert labels["com.docker.compose.container-number"] == "1"
    assert labels["com.docker.compose.oneoff"] == "False"
    assert labels["com.docker.compose.version"].startswith("2.")
    assert labels["com.docker.compose.project.working_dir"] == str(folder.absolute())
    assert labels["com.docker.compose.project.config_files"] == str(folder / "compose.yaml")
    assert labels["com.docker.compose.depends_on"] == "web:service_started:false"
    assert labels["com.docker.compose.image"] == docker_client.images.get(test_images.v1).id
    assert labels["io.stackctl.managed"] == "true"
    network = docker_client.networks.get(f"{name}_default")
    assert network.attrs["Labels"]["com.docker.compose.version"].startswith("2.")


def test_docker_compose_ps_up_no_recreate_and_down_work(h, engine_janitor, test_images):
    root = h.tmp / "manifests"
    name = engine_janitor.project("ps")
    folder = project_folder(root, name, test_images.v1)
    converge(h, root, name)
    ids = h.containers(name)

    ps = compose(folder, name, "ps")
    assert ps.returncode == 0, ps.stderr
    assert f"{name}-web-1" in ps.stdout and f"{name}-worker-1" in ps.stdout

    up = compose(folder, name, "up", "-d", "--no-recreate")
    assert up.returncode == 0, up.stderr
    assert h.containers(name) == ids  # nothing recreated, nothing added

    down = compose(folder, name, "down")
    assert down.returncode == 0, down.stderr
    assert h.containers(name) == {}
