"""What the stack page shows of what runs on the engine: containers, or a Swarm's services and
tasks, chosen by the observed value's own type (``observed_rows``), never by asking which kind of
engine the stack is on. Ports and image of a container are those of the version that created it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any

from controller.models import StackVersion
from controller.models.observed import Snapshot
from controller.models.swarm import SwarmSnapshot
from controller.models.swarm_rows import ServiceRow, TaskRow, service_rows, task_rows


@dataclass(frozen=True)
class ContainerRow:
    service: str
    name: str | None
    state: str
    health: str | None
    ports: str
    image: str
    version: str | None


@dataclass
class ObservedRows:
    """What the stack page shows of what runs: containers, or a Swarm's services and tasks."""

    containers: list[ContainerRow] = field(default_factory=list)
    swarm: bool = False
    services: list[ServiceRow] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)


@singledispatch
def observed_rows(
    snapshot: Snapshot | None, current: StackVersion | None, versions: list[StackVersion]
) -> ObservedRows:
    """The page's rows for what was observed, chosen by the observed value's type (a backend
    whose snapshot is shown otherwise registers its rows here): a container engine's snapshot,
    or none (every desired service ``unknown``), as containers."""
    return ObservedRows(containers=container_rows(current, snapshot, versions=versions))


@observed_rows.register
def _swarm_rows(
    snapshot: SwarmSnapshot, current: StackVersion | None, versions: list[StackVersion]
) -> ObservedRows:
    desired = list(_services(current))
    return ObservedRows(
        swarm=True, services=service_rows(desired, snapshot), tasks=task_rows(desired, snapshot)
    )


def container_rows(
    current: StackVersion | None, snapshot: Snapshot | None, *, versions: Iterable[StackVersion]
) -> list[ContainerRow]:
    """One row per container, desired services first; a desired service without one says
    missing; containers of services no longer desired are orphans. Ports and image are those
    of the version that created the container (its label), as that is what it runs."""
    services = _services(current)
    by_version = {v.version: _services(v) for v in versions}
    if snapshot is None:
        return [
            ContainerRow(s, None, "unknown", None, _ports(spec), spec.get("image", ""), None)
            for s, spec in services.items()
        ]
    observed = sorted({c.service for c in snapshot.containers} - set(services))
    rows: list[ContainerRow] = []
    for service in [*services, *observed]:
        containers = snapshot.containers_of(service)
        if not containers:
            spec = services.get(service, {})
            image = spec.get("image", "")
            rows.append(ContainerRow(service, None, "missing", None, _ports(spec), image, None))
        for c in containers:
            spec = by_version.get(c.version or "", {}).get(service) or services.get(service, {})
            state = c.state if c.exit_code in (None, 0) else f"{c.state} ({c.exit_code})"
            rows.append(
                ContainerRow(
                    service if service in services else f"{service} (orphan)",
                    c.name,
                    state,
                    c.health,
                    _ports(spec),
                    f"{spec.get('image', '')} ({c.image_id.removeprefix('sha256:')[:12]})",
                    c.version,
                )
            )
    return rows


def _services(version: StackVersion | None) -> dict[str, dict[str, Any]]:
    if version is None:
        return {}
    return {name: dict(spec) for name, spec in version.compose.services.items()}


def _ports(spec: dict[str, Any]) -> str:
    shown = []
    for p in spec.get("ports") or []:
        host = f"{p['host_ip']}:" if p.get("host_ip") else ""
        published = f"{host}{p['published']}->" if p.get("published") else ""
        shown.append(f"{published}{p['target']}/{p.get('protocol', 'tcp')}")
    return ", ".join(shown)
