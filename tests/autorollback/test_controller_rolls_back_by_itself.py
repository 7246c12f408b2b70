"""``stackctl run`` (its watcher, worker threads and health follow-ups) rolls a stack back by
itself: a manifest edited into a version that is never healthy is followed by a copy of the
healthy one, which serves again, and a later edit is recorded but waits for resume."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.controller_process import ControllerProcess, wait_for

from controller.models import HealthStatus

pytestmark = pytest.mark.engine


def write(root: Path, name: str, service: dict[str, Any]) -> None:
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {
            "compose": {"services": {"web": service}},
            "rollback": {"onFailure": True},
            "timeout": "8s",
        },
    }
    (root / f"{name}.yaml").write_text(yaml.safe_dump(manifest))


def serves(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
            return answer.read().decode()
    except OSError:
        return ""


def test_the_controller_rolls_back_an_unhealthy_edit(
    tmp_path: Path, engine_janitor, test_images, free_port
):
    root = tmp_path / "manifests"
    root.mkdir()
    name = engine_janitor.project("web")
    service = {
        "image": test_images.v1,
        "pull_policy": "never",
        "init": True,
        "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
        "ports": [f"127.0.0.1:{free_port}:8080"],
    }
    write(root, name, service)
    ctl = ControllerProcess(root, tmp_path / "stackctl.db").start()
    try:
        db = ctl.db()
        wait_for(
            lambda: (v := db.stack_versions.get(name, "v1")) and v.healthy_at,
            what="v1 healthy",
        )
        assert "stackctl test image 1" in serves(free_port)

        never = {"test": ["CMD", "false"], "interval": "1s", "retries": 1}
        write(root, name, {**service, "healthcheck": never})
        rolled = wait_for(
            lambda: [e for e in db.events.list(stack_id=name).items if e.reason == "RolledBack"],
            what="the automatic rollback",
        )
        assert (rolled[0].data["from"], rolled[0].data["to"]) == ("v2", "v1")
        stack = wait_for(
            lambda: (
                (s := db.stacks.require(name)).health_status is HealthStatus.HEALTHY
                and s.applied_version == "v3"
                and s
            ),
            what="v3 applied and healthy",
        )
        assert stack.pinned
        assert "stackctl test image 1" in wait_for(lambda: serves(free_port), what="serving")
        # A later edit is recorded (v4) and held by the pin, as after a manual rollback.
        write(root, name, {**service, "healthcheck": never, "environment": {"LEVEL": "debug"}})
        wait_for(lambda: db.stack_versions.get(name, "v4"), what="the edit recorded")
        assert db.stacks.require(name).current_version == "v3"
        assert "stackctl test image 1" in serves(free_port)
        db.close()
    finally:
        assert ctl.stop() == 0, ctl.log.read_text()[-3000:]
