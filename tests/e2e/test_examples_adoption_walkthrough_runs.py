"""The adoption walkthrough in examples/adoption runs as written: docker-compose starts a
project, stackctl refuses it naming its objects, adopts it with --adopt, and everything is
removed at the end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

SCRIPT = Path(__file__).parents[2] / "examples" / "adoption" / "walkthrough.sh"
PROJECT = "example-adopt"


def _left(docker_client) -> list[str]:
    containers = docker_client.containers.list(
        all=True, filters={"label": [f"com.docker.compose.project={PROJECT}"]}
    )
    volumes = [v.name for v in docker_client.volumes.list() if v.name.startswith(PROJECT)]
    networks = [n.name for n in docker_client.networks.list() if n.name.startswith(PROJECT)]
    return [c.name for c in containers] + volumes + networks


def test_the_adoption_walkthrough_runs_and_cleans_up(docker_client, test_images) -> None:
    assert _left(docker_client) == [], "a previous run left the example's objects behind"
    stackctl = Path(sys.executable).with_name("stackctl")
    done = subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, "STACKCTL": str(stackctl)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout + done.stderr
    assert "has objects stackctl did not create" in out
    assert "recreate example-adopt-web-1: adopt: created by docker compose" in out
    assert "walkthrough done" in out
    assert _left(docker_client) == []
