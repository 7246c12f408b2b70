"""Upgrading from the first release restarts nothing (issue 26, item 6).

0.1.0 (commit 105c5cb, schema 5) is installed in a temporary venv as a user would have it
(``helpers.old_release``) and converges, with its own ``stackctl apply``, a folder stack (an env
file, a bind mount, a named volume, a build, a port on 127.0.0.1, a healthcheck, depends_on) and
a manifest stack (``kind: Stack``, inline compose) on the real engine. Then this tree, on the same
database and engine, runs as an upgraded user would run it: the controller (``stackctl run``)
until each stack converged, ``stackctl apply`` of the same folder, ``stackctl sync``. No
container may be recreated (same ids), every stack converges, and the history 0.1.0 recorded is
still there.

The labels 0.1.0 wrote are not today's: its env files, bind sources and build contexts were
relative to the watched root, today's to the stack's own folder, so a folder stack's config hash
differs (``controller.desired.legacy_hashes`` says so, and the planner takes them as current).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.controller_process import ControllerProcess, wait_for
from helpers.old_release import OldRelease, installed_release

pytestmark = [pytest.mark.engine, pytest.mark.slow]

RELEASE_0_1_0 = "105c5cb"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def release_0_1_0(docker_client) -> Iterator[OldRelease]:
    """0.1.0 in a venv of its own, once per session (after the engine gate: no engine, no venv)."""
    with installed_release(RELEASE_0_1_0) as release:
        yield release


def new_stackctl(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """This tree's ``stackctl ARGS`` (``python -m controller`` from the repository)."""
    return subprocess.run(
        [sys.executable, "-m", "controller", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    said = done.stdout + done.stderr
    assert done.returncode == 0, f"{done.args} exited {done.returncode}:\n{said}"
    return said


def folder_stack(root: Path, name: str, *, port: int, image: str, built: str) -> None:
    """``root/NAME/``: compose.yaml with an env file, a bind mount, a named volume, a build..."""
    folder = root / name
    (folder / "html").mkdir(parents=True)
    (folder / "html" / "index.html").write_text("hello from 0.1.0\n")
    (folder / "app.env").write_text("LOG_LEVEL=info\nGREETING=hello\n")
    (folder / "Dockerfile").write_text(f"FROM {image}\nRUN echo built > /built\n")
    healthcheck = {
        "test": ["CMD", "timeout", "2", "wget", "-q", "-O-", "http://127.0.0.1:8080/"],
        "interval": "1s",
        "retries": 30,
    }
    compose = {
        "services": {
            "web": {
                "image": image,
                "pull_policy": "never",
                "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
                "init": True,
                "env_file": ["app.env"],
                "ports": [f"127.0.0.1:{port}:8080"],
                "volumes": ["./html:/www:ro", "data:/data"],
                "healthcheck": healthcheck,
            },
            "worker": {
                "build": ".",
                "image": built,
                "command": ["sleep", "3600"],
                "init": True,
                "env_file": "./app.env",
                "volumes": ["data:/data"],
                "depends_on": {"web": {"condition": "service_healthy"}},
            },
        },
        "volumes": {"data": {}},
    }
    (folder / "compose.yaml").write_text(yaml.safe_dump(compose))


def manifest_stack(root: Path, name: str, *, image: str) -> None:
    """``root/NAME.yaml``: a ``kind: Stack`` manifest like manifests/hello.yaml."""
    (root / "www").mkdir(exist_ok=True)
    (root / "www" / "index.html").write_text("hello\n")
    services = {
        "web": {
            "image": image,
            "pull_policy": "never",
            "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
            "ports": ["127.0.0.1::8080"],
            "environment": {"LOG_LEVEL": "info"},
            "volumes": ["./www:/www:ro"],
            "init": True,
            "healthcheck": {
                "test": ["CMD", "timeout", "2", "wget", "-q", "-O-", "http://127.0.0.1:8080/"],
                "interval": "1s",
                "retries": 30,
            },
        },
        "worker": {
            "image": image,
            "pull_policy": "never",
            "command": ["sleep", "3600"],
            "init": True,
            "depends_on": {"web": {"condition": "service_healthy"}},
        },
    }
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name, "labels": {"team": "examples"}},
        "spec": {"compose": {"services": services}},
    }
    (root / f"{name}.yaml").write_text(yaml.safe_dump(manifest))


def containers(docker_client: Any, stacks: list[str]) -> dict[str, str]:
    """Container name -> id, for every container of these stacks."""
    found = {}
    for stack in stacks:
        for c in docker_client.containers.list(
            all=True, filters={"label": f"com.docker.compose.project={stack}"}
        ):
            found[c.name] = c.id
    return found


def versions(output: str) -> list[tuple[str, str]]:
    return [(v["version"], v["digest"]) for v in json.loads(output)]


def test_converged_by_0_1_0_then_upgraded_recreates_nothing(
    release_0_1_0: OldRelease, engine_janitor, test_images, docker_client, free_port, tmp_path
):
    root, db = tmp_path / "root", tmp_path / "state" / "stackctl.db"
    root.mkdir()
    db.parent.mkdir()
    web, hello = engine_janitor.project("web"), engine_janitor.project("hello")
    built = f"{engine_janitor.prefix}-worker:1"
    engine_janitor.register(built, "image")
    folder_stack(root, web, port=free_port, image=test_images.v1, built=built)
    manifest_stack(root, hello, image=test_images.v1)

    # 0.1.0, as its README says: `stackctl apply PATH --db FILE`.
    ok(release_0_1_0.stackctl("--version", cwd=tmp_path))
    said = ok(release_0_1_0.stackctl("apply", str(root), "--db", str(db), cwd=tmp_path))
    assert f"{web}: converged" in said and f"{hello}: converged" in said, said
    before = containers(docker_client, [web, hello])
    assert len(before) == 4, before
    history = {
        s: versions(ok(release_0_1_0.stackctl("get", "versions", s, "--db", str(db),
                                              "-o", "json", cwd=tmp_path)))
        for s in (web, hello)
    }  # fmt: skip

    commands = json.loads(ok(release_0_1_0.stackctl("get", "commands", "--db", str(db),
                                                    "-o", "json", cwd=tmp_path)))  # fmt: skip
    last = max(c["command_id"] for c in commands)

    # Upgraded: the controller on the same root and database, until each stack converged.
    said_new = [_run_controller_once(root, db, stacks=[web, hello], after=last)]
    said_new.append(ok(new_stackctl("apply", str(root), "--db", str(db))))
    for stack in (web, hello):
        said_new.append(ok(new_stackctl("sync", stack, "--wait", "--db", str(db))))
    log = "\n".join(said_new)

    assert containers(docker_client, [web, hello]) == before, f"recreated:\n{log}"
    assert " recreate " not in log, log
    stacks = {s["name"]: s for s in json.loads(ok(new_stackctl("get", "stacks", "--db", str(db),
                                                              "-o", "json")))}  # fmt: skip
    for stack in (web, hello):
        row = stacks[stack]
        assert row["applied_version"] == row["current_version"], row
        assert (row["sync_status"], row["health_status"]) == ("Synced", "Healthy"), row
        now = versions(ok(new_stackctl("get", "versions", stack, "--db", str(db), "-o", "json")))
        assert now[: len(history[stack])] == history[stack], (stack, now)


def _run_controller_once(root: Path, db: Path, *, stacks: list[str], after: int) -> str:
    """``stackctl run`` (this tree, a resync every second) until every stack is converged, then
    a few quiet resync rounds more (a round that finds drift queues a RECONCILE, which would
    recreate); its log. ``after``: the last command 0.1.0 queued."""
    ctl = ControllerProcess(root, db, resync=1).start()
    try:
        with ctl.db() as database:

            def converged() -> bool:
                for stack in stacks:
                    new = [
                        c
                        for c in database.commands.list(stack_id=stack).items
                        if c.command_id > after
                    ]
                    failed = [c for c in new if c.status.value in ("FAILED", "CANCELLED")]
                    assert not failed, f"{stack}: {failed}\n{ctl.log.read_text()}"
                    row = database.stacks.get(stack)
                    if (
                        any(not c.status.terminal for c in new)
                        or row is None
                        or row.applied_version != row.current_version
                    ):
                        return False
                return True

            try:
                wait_for(converged, what="the upgraded controller to converge", timeout=90)
                time.sleep(3.5)  # three resync rounds
                wait_for(converged, what="the resync rounds to end", timeout=90)
            except AssertionError as e:
                raise AssertionError(f"{e}\n{ctl.log.read_text()}") from None
    finally:
        code = ctl.stop()
    assert code == 0, ctl.log.read_text()
    return ctl.log.read_text()
