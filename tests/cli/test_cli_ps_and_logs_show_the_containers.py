"""``stackctl ps`` and ``stackctl logs STACK [SERVICE]`` on a real engine: the containers with
state, health, ports and version, and their output, as ``docker compose ps``/``logs`` show it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from controller.cli import app

runner = CliRunner()


def write_manifest(folder: Path, *, name: str, image: str, port: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    services = {
        "web": {
            "image": image,
            "command": ["sh", "-c", "echo web-says-hello; exec httpd -f -p 8080 -h /www"],
            "ports": [f"127.0.0.1:{port}:8080"],
            "init": True,
            "healthcheck": {
                "test": ["CMD", "timeout", "2", "wget", "-q", "-O-", "http://127.0.0.1:8080/"],
                "interval": "1s",
                "retries": 5,
            },
        },
        "talker": {
            "image": image,
            "command": ["sh", "-c", "echo one; echo two; sleep 1; echo three >&2; exec sleep 3600"],
            "init": True,
        },
    }
    manifest = {"apiVersion": "stackctl/v1", "kind": "Stack", "metadata": {"name": name},
                "spec": {"compose": {"services": services}}}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(manifest))


@pytest.fixture
def applied(tmp_path, engine_janitor, test_images, free_port):
    name = engine_janitor.project("ps")
    db = str(tmp_path / "stackctl.db")
    write_manifest(tmp_path / "manifests", name=name, image=test_images.v1, port=free_port)
    result = runner.invoke(app, ["apply", str(tmp_path / "manifests"), "--db", db])
    assert result.exit_code == 0, result.output
    return name, free_port


def test_ps_shows_state_health_ports_and_version(applied):
    name, port = applied
    result = runner.invoke(app, ["ps", name])
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.strip().splitlines()
    assert header.split()[:4] == ["NAME", "SERVICE", "STATE", "HEALTH"]
    by_name = {line.split()[0]: line for line in lines}
    assert set(by_name) == {f"{name}-talker-1", f"{name}-web-1"}
    web = by_name[f"{name}-web-1"]
    assert " running " in web and f"127.0.0.1:{port}->8080/tcp" in web and web.endswith("v1")
    data = json.loads(runner.invoke(app, ["ps", name, "-o", "json"]).stdout)
    web_data = next(c for c in data if c["service"] == "web")
    assert web_data["health"] in ("starting", "healthy")
    assert next(c for c in data if c["service"] == "talker")["health"] is None
    assert web_data["ports"] == [f"127.0.0.1:{port}->8080/tcp"] and web_data["version"] == "v1"
    every = runner.invoke(app, ["ps"])
    assert every.stdout.splitlines()[0].split()[0] == "STACK"
    assert f"{name}-web-1" in every.stdout


def test_logs_of_a_stack_of_a_service_tail_and_follow(applied, docker_client):
    name, _ = applied
    deadline = time.monotonic() + 20
    while "three" not in runner.invoke(app, ["logs", name, "talker"]).stdout:
        assert time.monotonic() < deadline, "the talker never said three"
        time.sleep(0.2)
    result = runner.invoke(app, ["logs", name])
    assert result.exit_code == 0, result.output
    assert f"{name}-web-1" in result.stdout and "| web-says-hello" in result.stdout
    talker = [line.split(" | ", 1)[1] for line in result.stdout.splitlines() if "talker" in line]
    assert talker == ["one", "two", "three"]  # stdout and stderr, in time order
    one = runner.invoke(app, ["logs", name, "talker", "--tail", "1", "-t"])
    [line] = one.stdout.strip().splitlines()
    assert line.startswith(f"{name}-talker-1 | 20") and line.endswith(" three")
    assert runner.invoke(app, ["logs", name, "talker", "--since", "1h"]).stdout.count(" | ") == 3
    docker_client.containers.get(f"{name}-talker-1").stop(timeout=0)
    followed = runner.invoke(app, ["logs", name, "talker", "-f"])  # ends: the container stopped
    assert followed.exit_code == 0, followed.output
    assert [line.split(" | ", 1)[1] for line in followed.stdout.splitlines()] == [
        "one", "two", "three"]


def test_logs_of_an_unknown_stack_or_service_is_one_error_line(applied):
    name, _ = applied
    result = runner.invoke(app, ["logs", name, "nosuch"])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: no container of service 'nosuch' of stack '{name}' on the engine "
        f"(stackctl ps {name})")
