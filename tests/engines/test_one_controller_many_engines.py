"""One ``stackctl run`` converging three engines at once: a stack on ``local``, one on ``edge``
(the TLS test engine) and one on ``prod`` (the single-node Swarm test engine, ``kind: swarm``),
declared in an ``--engines`` file. ``/readyz`` reports each engine. Killing the TLS engine
leaves the others converging (an edit is applied on ``local`` and on the swarm while ``edge``
is down, and ``/readyz`` names the engine that does not answer); started again, the edit made
meanwhile to the ``edge`` stack is applied there too."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.controller_process import ControllerProcess, wait_for

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SLEEPER = {"command": ["sleep", "3600"], "init": True}


def write(root: Path, name: str, services: dict[str, Any], **spec: Any) -> None:
    manifest = {
        "apiVersion": "stackctl/v1",
        "kind": "Stack",
        "metadata": {"name": name},
        "spec": {"compose": {"services": services}, **spec},
    }
    (root / f"{name}.yaml").write_text(yaml.safe_dump(manifest))


def running(client: Any, name: str) -> dict[str, tuple[str, str]]:
    """container name -> (status, LEVEL) of the stack's containers on that engine."""
    found = client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={name}"}, ignore_removed=True
    )
    out = {}
    for c in found:
        env = dict(e.split("=", 1) for e in c.attrs["Config"]["Env"] if "=" in e)
        out[c.name] = (c.status, env.get("LEVEL", ""))
    return out


def swarm_level(client: Any, name: str) -> str:
    """The LEVEL of the stack's ``app`` service on the swarm once its task runs ("" before)."""
    for service in client.services.list(filters={"name": f"{name}_app"}):
        env = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env") or []
        tasks = service.tasks(filters={"desired-state": "running"})
        if any(t["Status"]["State"] == "running" for t in tasks):
            return dict(e.split("=", 1) for e in env).get("LEVEL", "")
    return ""


def ready(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_three_engines_converge_and_one_down_holds_only_its_stacks(
    root: Path,
    tmp_path: Path,
    tls_engine: Any,
    swarm_engine: Any,
    docker_client: Any,
    engine_janitor: Any,
    engine_janitor_factory: Any,
    test_images: Any,
    free_port: int,
) -> None:
    import dataclasses

    edge_janitor = dataclasses.replace(engine_janitor_factory(), client=tls_engine.client())
    here, there = engine_janitor.project("here"), edge_janitor.project("there")
    yonder = engine_janitor.project("yonder")  # on the swarm
    engines = tmp_path / "engines.yaml"
    engines.write_text(
        yaml.safe_dump(
            {
                "engines": {
                    "edge": {
                        "host": tls_engine.host,
                        "tls": {
                            "ca": str(tls_engine.ca),
                            "cert": str(tls_engine.cert),
                            "key": str(tls_engine.key),
                        },
                    },
                    "prod": {
                        "kind": "swarm",
                        "host": swarm_engine.host,
                        "tls": {
                            "ca": str(swarm_engine.ca),
                            "cert": str(swarm_engine.cert),
                            "key": str(swarm_engine.key),
                        },
                    },
                }
            }
        )
    )
    app = {"image": test_images.v1, **SLEEPER}
    write(root, here, {"app": {**app, "environment": {"LEVEL": "1"}}})
    write(root, there, {"app": {**app, "environment": {"LEVEL": "1"}}}, target={"engine": "edge"})
    on_swarm = {**app, "deploy": {"endpoint_mode": "dnsrr"}}
    write(root, yonder, {"app": {**on_swarm, "environment": {"LEVEL": "1"}}},
          target={"engine": "prod"})  # fmt: skip
    edge, swarm = tls_engine.client(), swarm_engine.client()
    controller = ControllerProcess(
        root,
        tmp_path / "stackctl.db",
        extra=("--api", f"127.0.0.1:{free_port}", "--engines", str(engines), "--workers", "2"),
    ).start()
    killed = False
    try:
        wait_for(
            lambda: running(docker_client, here) == {f"{here}-app-1": ("running", "1")},
            what="the local stack",
        )
        wait_for(
            lambda: running(edge, there) == {f"{there}-app-1": ("running", "1")},
            what="the stack on the TLS engine",
        )
        wait_for(lambda: swarm_level(swarm, yonder) == "1", what="the stack on the swarm")
        assert running(docker_client, there) == {}  # never on the wrong engine
        assert running(edge, here) == {}
        assert running(docker_client, yonder) == {}
        status, body = wait_for(lambda: (r := ready(free_port))[0] == 200 and r, what="readiness")
        assert body["engine"] is True and body["engine:edge"] is True
        assert body["engine:prod"] is True

        tls_engine.kill()
        killed = True
        write(root, here, {"app": {**app, "environment": {"LEVEL": "2"}}})
        write(
            root, there, {"app": {**app, "environment": {"LEVEL": "2"}}}, target={"engine": "edge"}
        )
        write(root, yonder, {"app": {**on_swarm, "environment": {"LEVEL": "2"}}},
              target={"engine": "prod"})  # fmt: skip
        wait_for(
            lambda: running(docker_client, here) == {f"{here}-app-1": ("running", "2")},
            what="the local stack converging while the TLS engine is down",
        )
        wait_for(
            lambda: swarm_level(swarm, yonder) == "2",
            what="the swarm stack converging while the TLS engine is down",
        )
        status, body = ready(free_port)
        assert status == 503 and body["engine"] is True
        assert body["engine:edge"] is False and "engine:edge: " in body["reason"]

        tls_engine.start()
        killed = False
        edge = tls_engine.client()
        wait_for(
            lambda: running(edge, there).get(f"{there}-app-1", ("", ""))[1] == "2",
            what="the edit made while the TLS engine was down, applied there",
            timeout=120,
        )
        (root / f"{yonder}.yaml").unlink()  # its manifest gone: its services removed
        wait_for(lambda: not swarm.services.list(filters={"name": yonder}), what="swarm cleanup")
    finally:
        if killed:
            tls_engine.start()  # the engine is the session's: give it back running
        controller.stop()
        edge_janitor.client = tls_engine.client()
        problems = edge_janitor.cleanup()
        assert not problems, problems
