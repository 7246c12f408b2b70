"""The Backend contract suite: the same scenarios through ``controller.backends.interface.Backend``
on every backend: ``local`` (the machine's engine), ``tls`` (a second dockerd over TLS),
``swarm`` (a single-node swarm of its own dockerd) and ``memory`` (the in-memory fake, no Docker:
it runs in the quick pass). ``test_engine_contract_on_every_backend.py`` keeps the container
engines' own scenarios (ports served, files in containers).

Each scenario converges through the worker (as the controller does) and looks only through the
interface: observe, plan, health, runtime; what a person does by hand (removing what runs) is
the one thing each backend does its own way (``Subject.remove_by_hand``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.harness import Harness, make_harness

from controller.backends.docker import Engine
from controller.backends.engines import Engines
from controller.backends.interface import Backend
from controller.backends.memory.engine import MemoryEngine
from controller.desired import DesiredStack
from controller.desired.engine_spec import EngineSpec, TlsFiles
from controller.models import CommandStatus, HealthStatus

_names = itertools.count(1)


@dataclass
class Subject:
    """One backend under test: the harness converging on it, the backend, the ``spec.target``
    of its stacks, keys its services need, and how a person removes a service by hand."""

    kind: str
    h: Harness
    backend: Backend
    target: dict[str, str] | None
    image: str
    extra: dict[str, Any]
    remove_by_hand: Callable[[str, str], None]
    prefix: str

    def name(self) -> str:
        return f"{self.prefix}{next(_names)}"

    def stack(self, name: str, services: dict[str, dict[str, Any]]) -> DesiredStack:
        compose = {
            "services": {
                key: {"image": self.image, **self.extra, **service}
                for key, service in services.items()
            }
        }
        return self.h.stack(name, compose, **({"target": self.target} if self.target else {}))


SLEEPER = {"command": ["sleep", "3600"], "init": True}
ENGINE = [pytest.mark.engine, pytest.mark.slow]


def _local(request: Any, tmp_path: Path) -> Subject:
    client = request.getfixturevalue("docker_client")
    janitor = request.getfixturevalue("engine_janitor")
    engine = Engine()
    h = make_harness(tmp_path, engine=engine)
    image = request.getfixturevalue("test_images").v1

    def remove(stack: str, service: str) -> None:
        client.containers.get(f"{stack}-{service}-1").remove(force=True)

    return Subject("local", h, engine, None, image, SLEEPER, remove, janitor.project("bk"))


def _tls(request: Any, tmp_path: Path) -> Subject:
    tls = request.getfixturevalue("tls_engine")
    spec = EngineSpec(
        name="edge", host=tls.host, tls=TlsFiles(ca=tls.ca, cert=tls.cert, key=tls.key)
    )
    engines = Engines({"edge": spec}, local=Engine())
    h = make_harness(tmp_path, engine=engines)
    client = tls.client()
    image = request.getfixturevalue("test_images").v1

    def remove(stack: str, service: str) -> None:
        client.containers.get(f"{stack}-{service}-1").remove(force=True)

    target = {"engine": "edge"}
    return Subject("tls", h, engines.get("edge"), target, image, SLEEPER, remove, "bktls")


def _swarm(request: Any, tmp_path: Path) -> Subject:
    swarm = request.getfixturevalue("swarm_engine")
    spec = EngineSpec(
        name="prod",
        kind="swarm",
        host=swarm.host,
        tls=TlsFiles(ca=swarm.ca, cert=swarm.cert, key=swarm.key),
    )
    engines = Engines({"prod": spec}, local=Engine())
    h = make_harness(tmp_path, engine=engines, wait_timeout=60)
    client = swarm.client()
    image = request.getfixturevalue("test_images").v1
    extra = {**SLEEPER, "deploy": {"endpoint_mode": "dnsrr"}}

    def remove(stack: str, service: str) -> None:
        client.services.get(f"{stack}_{service}").remove()

    target = {"engine": "prod"}
    return Subject("swarm", h, engines.get("prod"), target, image, extra, remove, "swbk")


def _memory(request: Any, tmp_path: Path) -> Subject:
    engine = MemoryEngine()
    h = make_harness(tmp_path, engine=engine)  # type: ignore[arg-type]
    return Subject(
        "memory", h, engine, None, "stackctl-test:1", SLEEPER, engine.kill_service, "mem"
    )


MAKERS = {"local": _local, "tls": _tls, "swarm": _swarm, "memory": _memory}


@pytest.fixture(
    params=[
        pytest.param("local", marks=ENGINE),
        pytest.param("tls", marks=ENGINE),
        pytest.param("swarm", marks=ENGINE),
        "memory",
    ]
)
def subject(request: Any, tmp_path: Path) -> Iterator[Subject]:
    subject = MAKERS[request.param](request, tmp_path)
    yield subject
    for stack in {s.stack_id for s in subject.h.db.stacks.list()}:
        outcome = subject.h.delete(stack, volumes=True)
        assert outcome.command.status is CommandStatus.DONE, outcome.error
    subject.h.db.close()


def _looked(subject: Subject, desired: DesiredStack) -> Any:
    return subject.backend.observe_stack(desired)


def test_every_backend_keeps_the_interface(subject: Subject) -> None:
    assert isinstance(subject.backend, Backend)
    subject.backend.ping()


def test_converged_is_healthy_in_sync_and_says_what_runs(subject: Subject) -> None:
    name = subject.name()
    desired = subject.stack(name, {"app": {}})
    outcome = subject.h.apply(desired)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    observed = _looked(subject, desired)
    assert subject.backend.plan(desired, observed, previous=desired).in_sync
    assert subject.backend.health(desired, observed) == (HealthStatus.HEALTHY, "")
    runtime = subject.backend.runtime(desired, observed)
    assert list(runtime) == ["app"] and len(runtime["app"]) == 1


def test_reapplying_changes_nothing(subject: Subject) -> None:
    desired = subject.stack(subject.name(), {"app": {}})
    assert subject.h.apply(desired).error is None
    subject.backend.calls.reset()
    again = subject.h.apply(desired)
    assert again.command.status is CommandStatus.DONE, again.error
    assert again.plan is not None and again.plan.in_sync
    assert subject.backend.calls.mutating == 0, subject.backend.calls.counts


def test_changing_one_service_changes_only_it(subject: Subject) -> None:
    name = subject.name()
    services = {"web": {"environment": {"LEVEL": "1"}}, "db": {}}
    assert subject.h.apply(subject.stack(name, services)).error is None
    services["web"] = {"environment": {"LEVEL": "2"}}
    outcome = subject.h.apply(subject.stack(name, services))
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert outcome.plan is not None
    assert {s.service for s in outcome.plan.changes} == {"web"}


def test_drift_is_corrected(subject: Subject) -> None:
    name = subject.name()
    desired = subject.stack(name, {"app": {}})
    assert subject.h.apply(desired).error is None
    subject.remove_by_hand(name, "app")
    assert not subject.backend.plan(desired, _looked(subject, desired), previous=desired).in_sync
    outcome = subject.h.reconcile(name)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    assert subject.backend.health(desired, _looked(subject, desired))[0] is HealthStatus.HEALTHY


def test_planning_is_pure(subject: Subject) -> None:
    desired = subject.stack(subject.name(), {"app": {}})
    observed = _looked(subject, desired)
    first = subject.backend.plan(desired, observed)
    assert first == subject.backend.plan(desired, observed)
    assert not first.in_sync  # nothing runs yet
    assert subject.backend.problems(desired) == []


def test_delete_removes_everything_of_the_stack(subject: Subject) -> None:
    name = subject.name()
    desired = subject.stack(name, {"web": {}, "db": {}})
    assert subject.h.apply(desired).error is None
    outcome = subject.h.delete(name, volumes=True)
    assert outcome.command.status is CommandStatus.DONE, outcome.error
    observed = _looked(subject, desired)
    assert subject.backend.health(desired, observed)[0] is HealthStatus.MISSING
    assert subject.backend.runtime(desired, observed) in ({}, {"web": [], "db": []})
    again = subject.backend.teardown(subject.backend.observe(name), order=[], remove_volumes=True)
    assert again.in_sync  # nothing left to remove
