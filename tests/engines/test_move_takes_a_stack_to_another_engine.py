"""``stackctl move``: a stack whose manifest now targets another engine is moved only when
asked: torn down on the engine it ran on (its volumes kept there) and created on the new one,
recorded like any apply. Nothing to move (same engine, never applied) is refused with the
reason. A command killed halfway runs again and finds nothing left on the old engine."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from helpers.harness import make_harness

from controller.backends.docker import Engine
from controller.backends.engines import Engines
from controller.commands import operations
from controller.desired.engine_spec import EngineSpec, TlsFiles
from controller.models import CommandStatus
from controller.models.errors import ConflictError

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SLEEPER = {"command": ["sleep", "3600"], "init": True}


def project(client: Any, name: str) -> dict[str, str]:
    found = client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={name}"}, ignore_removed=True
    )
    return {c.name: c.status for c in found}


def volumes(client: Any, name: str) -> list[str]:
    return [
        v.name for v in client.volumes.list(filters={"label": f"com.docker.compose.project={name}"})
    ]


def test_move_from_local_to_the_tls_engine(
    tmp_path: Path,
    tls_engine: Any,
    docker_client: Any,
    engine_janitor: Any,
    test_images: Any,
) -> None:
    spec = EngineSpec(
        name="edge",
        host=tls_engine.host,
        tls=TlsFiles(ca=tls_engine.ca, cert=tls_engine.cert, key=tls_engine.key),
    )
    h = make_harness(tmp_path, engine=Engines({"edge": spec}, local=Engine()))
    edge = tls_engine.client()
    edge_janitor = dataclasses.replace(engine_janitor, client=edge)
    name = engine_janitor.project("shop")
    compose = {
        "services": {"app": {"image": test_images.v1, **SLEEPER, "volumes": ["data:/data"]}},
        "volumes": {"data": {}},
    }
    try:
        assert h.apply(h.stack(name, compose)).command.status is CommandStatus.DONE
        with pytest.raises(ConflictError, match="nothing to move"):
            operations.move(h.db, name)
        assert project(docker_client, name) == {f"{name}-app-1": "running"}

        refused = h.apply(h.stack(name, compose, target={"engine": "edge"}))
        assert refused.command.status is CommandStatus.FAILED
        assert project(docker_client, name) == {f"{name}-app-1": "running"}  # untouched

        command = operations.move(h.db, name)
        assert command.payload["move"] == {"from": "local", "to": "edge"}
        moved = h.worker.run_next()
        assert moved is not None and moved.command.status is CommandStatus.DONE, moved.error
        assert project(docker_client, name) == {}
        assert volumes(docker_client, name) == [f"{name}_data"]  # its data stays there
        assert project(edge, name) == {f"{name}-app-1": "running"}
        stack = h.db.stacks.require(name)
        assert stack.applied_version == stack.current_version == "v2"
        messages = h.log_messages(moved)
        assert any("moving from engine 'local' to 'edge'" in m for m in messages)

        again = h.reconcile(name)  # converged on edge: nothing to do, nothing moved
        assert again.command.status is CommandStatus.DONE, again.error
        assert project(edge, name) == {f"{name}-app-1": "running"}
    finally:
        h.db.close()
        problems = edge_janitor.cleanup()
        assert not problems, problems
