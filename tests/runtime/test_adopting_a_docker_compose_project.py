"""A project started by Debian's docker-compose (1.29.2), handed to stackctl, on the real engine:
refused without the opt-in (nothing changed, `diff` says why), adopted with it (one explained
step per container, Compose's network and volume taken over by name, never duplicated), then
steady, then deleted with its volume."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml
from helpers.docker_compose import SLEEPER, compose
from typer.testing import CliRunner

from controller.cli import app
from controller.models import Command, CommandStatus, CommandType
from controller.models.observed import ADOPT_REASON
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


def write_project(root, name, image):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "compose.yaml").write_text(yaml.safe_dump({
        "services": {
            "web": {"image": image, **SLEEPER},
            "db": {"image": image, **SLEEPER, "volumes": ["data:/data"]},
        },
        "volumes": {"data": {}},
    }))
    return folder


def names_of_networks(docker_client, name):
    return [n.name for n in docker_client.networks.list() if n.name == name]


def test_compose_project_is_refused_then_adopted_then_deleted(
    h, engine_janitor, test_images, docker_client
):
    root = h.tmp / "manifests"
    name = engine_janitor.project("eco")
    folder = write_project(root, name, test_images.v1)
    up = compose(folder, name, "up", "-d")
    assert up.returncode == 0, up.stderr
    listed = docker_client.containers.list(all=True, ignore_removed=True)
    compose_ids = {c.name: c.id for c in listed if c.name.startswith(name)}
    assert sorted(compose_ids) == [f"{name}_db_1", f"{name}_web_1"]
    desired = load_path(root).stacks[name]

    refused = h.apply(desired, root=root)
    assert refused.command.status is CommandStatus.FAILED
    for obj in (*compose_ids, f"{name}_default", f"{name}_data"):
        assert obj in (refused.command.error or "")
    assert "stackctl apply --adopt" in refused.command.error
    assert {c.name: c.id for c in docker_client.containers.list(all=True, ignore_removed=True)
            if c.name.startswith(name)} == compose_ids  # nothing changed
    assert names_of_networks(docker_client, f"{name}_default") == [f"{name}_default"]

    diff = CliRunner().invoke(app, ["diff", str(root / name)])
    assert diff.exit_code == 1, diff.output
    assert "cannot apply: compose project" in diff.output
    assert f"recreate {name}-web-1: {ADOPT_REASON}" in diff.output

    adopted = h.run(Command(stack_id=name, type=CommandType.RECONCILE, payload={"adopt": True}))
    assert adopted.command.status is CommandStatus.DONE, adopted.error
    steps = [m for m in h.log_messages(adopted) if ADOPT_REASON in m]
    assert len(steps) == 2, h.log_messages(adopted)
    assert sorted(h.containers(name)) == [f"{name}-db-1", f"{name}-web-1"]
    assert not set(h.containers(name).values()) & set(compose_ids.values())
    assert names_of_networks(docker_client, f"{name}_default") == [f"{name}_default"]
    mounts = docker_client.containers.get(f"{name}-db-1").attrs["Mounts"]
    assert [m["Name"] for m in mounts if m["Type"] == "volume"] == [f"{name}_data"]

    h.engine.calls.reset()
    steady = h.reconcile(name)  # no opt-in now: the stack is stackctl's
    assert steady.command.status is CommandStatus.DONE, steady.error
    assert h.engine.calls.mutating == 0, h.engine.calls.counts

    deleted = h.delete(name, volumes=True)
    assert deleted.command.status is CommandStatus.DONE, deleted.error
    assert names_of_networks(docker_client, f"{name}_default") == []
    assert [v.name for v in docker_client.volumes.list() if v.name == f"{name}_data"] == []


def test_docker_compose_up_on_our_stack_is_put_back_one_step_per_container(
    h, engine_janitor, test_images, docker_client
):
    root = h.tmp / "manifests"
    name = engine_janitor.project("up")
    folder = write_project(root, name, test_images.v1)
    desired = load_path(root).stacks[name]
    assert h.apply(desired, root=root).command.status is CommandStatus.DONE

    up = compose(folder, name, "up", "-d")  # Compose's config-hash differs: it recreates
    assert up.returncode == 0, up.stderr
    assert h.containers(name) == {}
    assert names_of_networks(docker_client, f"{name}_default") == [f"{name}_default"]

    back = h.reconcile(name)
    assert back.command.status is CommandStatus.DONE, back.error
    steps = [m for m in h.log_messages(back) if ADOPT_REASON in m]
    assert len(steps) == 2, h.log_messages(back)
    assert sorted(h.containers(name)) == [f"{name}-db-1", f"{name}-web-1"]
    assert sorted(c.name for c in docker_client.containers.list(all=True, ignore_removed=True)
                  if c.name.startswith(name)) == [f"{name}-db-1", f"{name}-web-1"]

    h.engine.calls.reset()
    assert h.reconcile(name).command.status is CommandStatus.DONE
    assert h.engine.calls.mutating == 0, h.engine.calls.counts


def test_what_the_engine_counts_as_compose_s(h, engine_janitor, test_images, docker_client):
    """Containers of the project without our label, by label or by v1/v2 name; never a `compose
    run` one-off, nor a container of another project whose name starts the same."""
    name = engine_janitor.project("seen")
    made = {
        f"{name}_web_1": {"com.docker.compose.project": name,
                          "com.docker.compose.service": "web",
                          "com.docker.compose.container-number": "1"},
        f"{name}_web_run_1": {"com.docker.compose.project": name,
                              "com.docker.compose.service": "web",
                              "com.docker.compose.oneoff": "True"},
        f"{name}-db-2": {},
        f"{name}-other-web-1": {"com.docker.compose.project": f"{name}-other"},
    }
    for cname, labels in made.items():
        docker_client.containers.create(test_images.v1, ["true"], name=cname, labels=labels)
    seen = h.engine.observe(name).foreign_containers
    assert [(c.name, c.service, c.number) for c in seen] == [
        (f"{name}-db-2", "db", 2), (f"{name}_web_1", "web", 1)]
