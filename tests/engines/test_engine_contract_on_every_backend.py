"""The engine contract suite: the same convergence scenarios against every backend, on real
engines, as huey runs one storage suite against every storage. ``local`` is the machine's
engine (a stack with no target); ``tls`` is a second dockerd reached over TCP with TLS
(``tls_engine``), declared as engine ``edge`` and targeted by ``spec.target.engine: edge``
(its secrets and configs are copied into the containers: the engine is remote).

Each scenario: create (and serve on 127.0.0.1), re-apply with zero mutating calls, change one
service (only it is recreated), drift (a container removed by hand comes back), secrets and
configs readable in the container, delete (everything of the stack gone).
"""

from __future__ import annotations

import dataclasses
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.harness import Harness, make_harness

from controller.backends.docker import Engine, EngineBackend
from controller.backends.engines import Engines
from controller.desired import DesiredStack
from controller.desired.engine_spec import EngineSpec, TlsFiles
from controller.models import CommandStatus

pytestmark = [pytest.mark.engine, pytest.mark.slow]

SLEEPER = {"command": ["sleep", "3600"], "init": True}
WEB = {"command": ["httpd", "-f", "-p", "8080", "-h", "/www"], "init": True}


@dataclass
class Backend:
    """One backend under test: the harness converging on it, its engine, a docker-py client
    of that engine for the test's own looks, and the ``spec.target`` of its stacks."""

    name: str
    h: Harness
    engine: Engine
    client: Any
    target: dict[str, str] | None

    def stack(self, name: str, compose: dict[str, Any]) -> DesiredStack:
        extra = {"target": self.target} if self.target else {}
        return self.h.stack(name, compose, **extra)

    def running(self, name: str) -> dict[str, str]:
        found = self.client.containers.list(
            all=True, filters={"label": f"com.docker.compose.project={name}"}, ignore_removed=True
        )
        return {c.name: c.status for c in found}


@pytest.fixture(params=["local", "tls"])
def backend(request: Any, tmp_path: Path, docker_client: Any) -> Iterator[Backend]:
    if request.param == "local":
        engine = Engine()
        h = make_harness(tmp_path, engine=engine)
        yield Backend("local", h, engine, docker_client, None)
    else:
        tls = request.getfixturevalue("tls_engine")
        spec = EngineSpec(
            name="edge", host=tls.host, tls=TlsFiles(ca=tls.ca, cert=tls.cert, key=tls.key)
        )
        engines = Engines({"edge": spec}, local=Engine())
        h = make_harness(tmp_path, engine=engines)
        yield Backend("tls", h, engines.get("edge"), tls.client(), {"engine": "edge"})
    h.db.close()


@pytest.fixture
def janitor(backend: Backend, engine_janitor_factory: Any) -> Iterator[Any]:
    """Names the test's stacks and removes what they left on the backend's engine."""
    janitor = dataclasses.replace(engine_janitor_factory(), client=backend.client)
    yield janitor
    problems = janitor.cleanup()
    assert not problems, problems


def fetch(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
        return response.read().decode()


def test_the_backend_keeps_the_contract(backend: Backend) -> None:
    assert isinstance(backend.engine, EngineBackend)
    backend.engine.ping()


def test_create_serve_then_reapply_changes_nothing(
    backend: Backend, janitor: Any, test_images: Any, free_port: int
) -> None:
    name = janitor.project("shop")
    web = {"image": test_images.v1, "ports": [f"127.0.0.1:{free_port}:8080"], **WEB}
    desired = backend.stack(name, {"services": {"web": web}})
    first = backend.h.apply(desired)
    assert first.command.status is CommandStatus.DONE, first.error
    assert backend.running(name) == {f"{name}-web-1": "running"}
    assert "stackctl test image 1" in fetch(free_port)
    backend.engine.calls.reset()
    again = backend.h.apply(desired)
    assert again.command.status is CommandStatus.DONE, again.error
    assert backend.engine.calls.mutating == 0, backend.engine.calls.counts


def test_changing_one_service_recreates_only_it(
    backend: Backend, janitor: Any, test_images: Any
) -> None:
    name = janitor.project("shop")
    services = {
        "web": {"image": test_images.v1, **SLEEPER, "environment": {"LEVEL": "1"}},
        "db": {"image": test_images.v1, **SLEEPER},
    }
    assert backend.h.apply(backend.stack(name, {"services": services})).error is None
    before = backend.h.containers(name) if backend.name == "local" else _ids(backend, name)
    services["web"] = {**services["web"], "environment": {"LEVEL": "2"}}
    outcome = backend.h.apply(backend.stack(name, {"services": services}))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    after = _ids(backend, name)
    assert after[f"{name}-db-1"] == before[f"{name}-db-1"]
    assert after[f"{name}-web-1"] != before[f"{name}-web-1"]
    assert [(s.kind.value, s.reason) for s in outcome.plan.changes] == [
        ("recreate", "environment LEVEL changed")
    ]


def _ids(backend: Backend, name: str) -> dict[str, str]:
    return {c.name: c.id for c in backend.engine.observe(name).containers}


def test_drift_is_corrected(backend: Backend, janitor: Any, test_images: Any) -> None:
    name = janitor.project("shop")
    desired = backend.stack(name, {"services": {"app": {"image": test_images.v1, **SLEEPER}}})
    assert backend.h.apply(desired).error is None
    backend.client.containers.get(f"{name}-app-1").remove(force=True)
    outcome = backend.h.reconcile(name)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert [s.kind.value for s in outcome.plan.changes] == ["create"]
    assert backend.running(name) == {f"{name}-app-1": "running"}


def test_secrets_and_configs_reach_the_container(
    backend: Backend, janitor: Any, test_images: Any
) -> None:
    name = janitor.project("shop")
    folder = backend.h.tmp / f"manifests-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "token.txt").write_text("s3cret\n")
    (folder / "app.conf").write_text("level=debug\n")
    compose = {
        "services": {
            "app": {
                "image": test_images.v1,
                **SLEEPER,
                "secrets": ["token"],
                "configs": [{"source": "app", "target": "/etc/app.conf"}],
            }
        },
        "secrets": {"token": {"file": "./token.txt"}},
        "configs": {"app": {"file": "./app.conf"}},
    }
    outcome = backend.h.apply(backend.stack(name, compose))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    container = backend.client.containers.get(f"{name}-app-1")
    assert container.exec_run(["cat", "/run/secrets/token"]).output == b"s3cret\n"
    assert container.exec_run(["cat", "/etc/app.conf"]).output == b"level=debug\n"
    mounts = {m["Destination"] for m in container.attrs["Mounts"]}
    if backend.name == "tls":  # remote: copied in, nothing of the controller's disk mounted
        assert "/run/secrets/token" not in mounts and "/etc/app.conf" not in mounts
    else:
        assert {"/run/secrets/token", "/etc/app.conf"} <= mounts


def test_delete_removes_everything_of_the_stack(
    backend: Backend, janitor: Any, test_images: Any
) -> None:
    name = janitor.project("shop")
    compose = {
        "services": {"app": {"image": test_images.v1, **SLEEPER, "networks": ["back"]}},
        "networks": {"back": {}},
    }
    assert backend.h.apply(backend.stack(name, compose)).error is None
    outcome = backend.h.delete(name)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert backend.running(name) == {}
    assert (
        backend.client.networks.list(filters={"label": f"com.docker.compose.project={name}"}) == []
    )
