"""An unchanged manifest applied after ``stackctl delete`` brings the stack back: its latest
version is current again and applied (it said "unchanged (None)" and failed "stack has no
version to apply" before), on both the typer path and the quick one, on a real engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import docker
import pytest
import yaml

from controller.db import Database
from controller.models.observed import PROJECT_LABEL

pytestmark = pytest.mark.engine

STACKCTL = [sys.executable, "-m", "controller"]


def write(folder: Path, name: str, image: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    service = {"image": image, "command": ["sleep", "3600"], "init": True}
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {"compose": {"services": {"app": service}}},
    }
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(manifest))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*STACKCTL, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("path", ["quick", "typer"])
def test_apply_after_delete_applies_the_latest_version_again(
    tmp_path, engine_janitor, test_images, path
):
    name = engine_janitor.project("back")
    db = str(tmp_path / "stackctl.db")
    manifests = tmp_path / "manifests"
    write(manifests, name, test_images.v1)
    extra = ["--timeout", "60"] if path == "typer" else []  # an option the quick path leaves
    assert run("apply", str(manifests), "--db", db).returncode == 0
    deleted = run("delete", name, "--db", db)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr

    again = run("apply", str(manifests), "--db", db, *extra)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{name}: unchanged (v1), applied again" in again.stdout
    assert f"{name}: converged" in again.stdout
    client = docker.from_env()
    running = client.containers.list(filters={"label": f"{PROJECT_LABEL}={name}"})
    assert [c.status for c in running] == ["running"]
    with Database(db_path=db) as database:
        stack = database.stacks.require(name)
        assert (stack.current_version, stack.applied_version) == ("v1", "v1")
        reasons = [e.reason for e in database.events.list(stack_id=name).items]
        assert "ManifestRestored" in reasons
    client.close()
