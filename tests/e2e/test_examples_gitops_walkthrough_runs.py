"""The GitOps walkthrough in examples/gitops runs as written: a repository followed with
``--git-url``, a push converged, a signed webhook, the commit on each version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine

SCRIPT = Path(__file__).parents[2] / "examples" / "gitops" / "walkthrough.sh"


def test_the_walkthrough_runs_and_cleans_up(docker_client, test_images, free_port) -> None:
    stackctl = Path(sys.executable).with_name("stackctl")
    done = subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, "STACKCTL": str(stackctl), "PORT": str(free_port)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "default:main@" in done.stdout
    assert "walkthrough done" in done.stdout
    left = docker_client.containers.list(
        all=True, filters={"label": ["com.docker.compose.project=gitops-hello"]}
    )
    assert left == []
