"""``stackctl describe`` of a stack converged on a real single-node swarm (``swarm_engine``),
the engine declared in an engines file given with ``--engines`` (kind swarm, its TLS files):
the Services section has each service's replicas running, the Tasks section one running task
per replica on the swarm's node, and ``-o json`` the same under ``services`` and ``tasks``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.harness import Harness, make_harness
from typer.testing import CliRunner

from controller.backends.docker import Engine
from controller.backends.engines import Engines
from controller.cli import app
from controller.desired.engine_spec import EngineSpec, TlsFiles
from controller.models import CommandStatus

pytestmark = [pytest.mark.engine, pytest.mark.slow]

runner = CliRunner()
SLEEPER = {"command": ["sleep", "3600"], "init": True, "deploy": {"endpoint_mode": "dnsrr"}}


@pytest.fixture
def converged(swarm_engine: Any, tmp_path: Path, test_images: Any) -> Iterator[Harness]:
    """``swdesc`` (web: 2 replicas, probe: 1) converged on the swarm; deleted at the end."""
    spec = EngineSpec(
        name="prod",
        kind="swarm",
        host=swarm_engine.host,
        tls=TlsFiles(ca=swarm_engine.ca, cert=swarm_engine.cert, key=swarm_engine.key),
    )
    h = make_harness(tmp_path, engine=Engines({"prod": spec}, local=Engine()), wait_timeout=60)
    compose = {"services": {
        "web": {"image": test_images.v1, **SLEEPER,
                "deploy": {**SLEEPER["deploy"], "replicas": 2}},
        "probe": {"image": test_images.v1, **SLEEPER},
    }}  # fmt: skip
    try:
        outcome = h.apply(h.stack("swdesc", compose, target={"engine": "prod"}))
        assert outcome.command.status is CommandStatus.DONE, outcome.error
        yield h
    finally:
        gone = h.delete("swdesc")
        h.db.close()
        assert gone.command.status is CommandStatus.DONE, gone.error


@pytest.fixture
def engines_file(swarm_engine: Any, tmp_path: Path) -> Path:
    path = tmp_path / "engines.yaml"
    tls = {"ca": str(swarm_engine.ca), "cert": str(swarm_engine.cert), "key": str(swarm_engine.key)}
    prod = {"kind": "swarm", "host": swarm_engine.host, "tls": tls}
    path.write_text(yaml.safe_dump({"engines": {"prod": prod}}))
    return path


def describe(*args: str, h: Harness) -> str:
    result = runner.invoke(app, ["describe", "swdesc", *args, "--db", str(h.tmp / "stackctl.db")])
    assert result.exit_code == 0, result.output
    return result.output


def cells(out: str, title: str, end: str) -> list[list[str]]:
    body = out.split(f"\n{title}:", 1)[1].split(f"\n{end}:", 1)[0]
    return [[c.strip() for c in line.strip().split("  ") if c] for line in body.splitlines()[2:]]


def test_describe_shows_the_services_and_tasks_of_the_swarm(
    converged: Harness, engines_file: Path, swarm_engine: Any, test_images: Any
) -> None:
    out = describe("--engines", str(engines_file), h=converged)
    assert "Engine:     prod" in out
    assert "engine unreachable" not in out and "CONTAINER" not in out
    services = {row[0]: row for row in cells(out, "Services", "Tasks")}
    assert services["web"][:4] == ["web", "replicated", "2/2", test_images.v1]
    assert services["probe"][:4] == ["probe", "replicated", "1/1", test_images.v1]
    node = swarm_engine.client().info()["Swarm"]["NodeID"]
    tasks = [row for row in cells(out, "Tasks", "Last commands") if row[5] == "running"]
    assert sorted((t[1], t[2], t[4]) for t in tasks) == [
        ("probe", "1", "running"), ("web", "1", "running"), ("web", "2", "running")]  # fmt: skip
    assert {t[3] for t in tasks} == {node[:12]}

    data = json.loads(describe("-o", "json", "--engines", str(engines_file), h=converged))
    assert data["engine_error"] is None
    web = next(s for s in data["services"] if s["service"] == "web")
    assert (web["name"], web["running"], web["wanted"]) == ("swdesc_web", 2, 2)
    running = [t for t in data["tasks"] if t["desired_state"] == "running"]
    assert len(running) == 3 and {t["node"] for t in running} == {node}


def test_without_the_engines_file_describe_says_the_engine_is_not_declared(
    converged: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STACKCTL_ENGINES", raising=False)
    out = describe(h=converged)
    assert "Services: engine 'prod' is not declared (declared: local;" in out
