"""What ``stackctl ps``, ``logs`` and ``version`` read from the engine: container summaries,
container logs and the engine's version.

Read-only, and beside ``Engine`` rather than in it: the reconciler never needs these. They go
through the engine's ``_call`` all the same, so they are counted and their errors translated.
Containers labelled ``io.stackctl.managed=true`` are listed, and those ``docker compose`` made
in the slots of a stack stackctl holds (as the planner counts them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import docker

from controller.backends.docker.observing import DockerObserving
from controller.backends.shared.log_stream import log_lines
from controller.models.observed import (
    MANAGED_LABEL,
    NUMBER_LABEL,
    ONEOFF_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    VERSION_LABEL,
    container_name,
)

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")


@dataclass(frozen=True)
class ContainerSummary:
    """One container as ``ps`` shows it."""

    id: str
    name: str
    stack: str
    service: str
    number: int
    state: str  # created | running | paused | restarting | exited | dead
    status: str  # the engine's words: "Up 3 minutes (healthy)", "Exited (0) 2 seconds ago"
    health: str | None  # starting | healthy | unhealthy | None (no healthcheck)
    ports: tuple[str, ...]  # "127.0.0.1:8088->80/tcp", "80/tcp"
    version: str | None
    image: str


@dataclass(frozen=True)
class EngineVersion:
    version: str
    api_version: str
    min_api_version: str
    client_api_version: str  # what docker-py negotiated with the engine
    os: str
    arch: str
    docker_py: str


def list_containers(engine: DockerObserving, *, stack: str | None = None) -> list[ContainerSummary]:
    """stackctl's containers (of ``stack``, or of every stack), by stack, service and number;
    with them, those ``docker compose`` (v2) made in a stackctl stack's slots (the planner
    keeps them as the stack's when they are current: ``snapshot.in_slots``)."""
    labels = [f"{PROJECT_LABEL}={stack}"] if stack else [PROJECT_LABEL]
    listed = engine._call(
        "list_containers",
        f"listing containers of {stack or 'every stack'}",
        engine._api.containers,
        all=True,
        filters={"label": labels},
    )
    ours = [item for item in listed if (item.get("Labels") or {}).get(MANAGED_LABEL) == "true"]
    held = {(item.get("Labels") or {}).get(PROJECT_LABEL) for item in ours}
    made = [item for item in listed if item not in ours and _in_slot(item, held=held)]
    found = [_summary(item) for item in [*ours, *made]]
    return sorted(found, key=lambda c: (c.stack, c.service, c.number, c.name))


def _in_slot(item: dict[str, Any], *, held: set[str | None]) -> bool:
    """A container ``docker compose`` made in a slot of a stack stackctl holds (not a
    ``docker compose run`` one-off)."""
    labels = item.get("Labels") or {}
    project, service = labels.get(PROJECT_LABEL), labels.get(SERVICE_LABEL)
    number = labels.get(NUMBER_LABEL, "")
    if project not in held or not service or not number.isdigit():
        return False
    if labels.get(ONEOFF_LABEL) == "True":
        return False
    name = (item.get("Names") or ["/"])[0].lstrip("/")
    return name == container_name(project, service, number=int(number))


def container_logs(
    engine: DockerObserving,
    container: str,
    *,
    follow: bool = False,
    tail: int | None = None,
    since: datetime | None = None,
) -> Iterator[str]:
    """The container's output (stdout and stderr), line by line, each line starting with the
    engine's RFC 3339 timestamp (nine fraction digits, so lines sort as text). With ``follow``
    the lines keep coming until the container stops (or the caller stops iterating)."""
    options: dict[str, Any] = {"timestamps": True, "tail": "all" if tail is None else tail}
    if since is not None:
        options["since"] = since
    chunks = engine._call(
        "logs",
        f"reading the logs of {container}",
        engine._api.logs,
        container,
        stream=True,
        follow=follow,
        **options,
    )
    return log_lines(chunks, doing=f"reading the logs of {container}")


def engine_version(engine: DockerObserving) -> EngineVersion:
    info = engine._call("version", "asking the engine its version", engine._api.version)
    return EngineVersion(
        version=str(info.get("Version", "?")),
        api_version=str(info.get("ApiVersion", "?")),
        min_api_version=str(info.get("MinAPIVersion", "?")),
        client_api_version=str(engine._api.api_version),
        os=str(info.get("Os", "?")),
        arch=str(info.get("Arch", "?")),
        docker_py=docker.__version__,
    )


def _summary(item: dict[str, Any]) -> ContainerSummary:
    labels = item.get("Labels") or {}
    status = item.get("Status") or ""
    health = _HEALTH.search(status)
    names = item.get("Names") or [item["Id"][:12]]
    return ContainerSummary(
        id=item["Id"],
        name=names[0].lstrip("/"),
        stack=labels.get(PROJECT_LABEL, ""),
        service=labels.get(SERVICE_LABEL, ""),
        number=int(labels.get(NUMBER_LABEL, "0") or 0),
        state=item.get("State") or "unknown",
        status=status,
        health=health.group(1).removeprefix("health: ") if health else None,
        ports=tuple(_port(p) for p in _unique_ports(item.get("Ports") or [])),
        version=labels.get(VERSION_LABEL),
        image=item.get("Image") or "",
    )


def _unique_ports(ports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The engine lists a port published on 0.0.0.0 and :: twice; ``ps`` shows it once."""
    seen, unique = set(), []
    for port in ports:
        ip = port.get("IP")
        key = (
            "" if ip in ("0.0.0.0", "::") else ip,
            port.get("PublicPort"),
            port.get("PrivatePort"),
            port.get("Type"),
        )
        if key not in seen:
            seen.add(key)
            unique.append(port)
    return sorted(unique, key=lambda p: (p.get("PrivatePort", 0), p.get("PublicPort") or 0))


def _port(port: dict[str, Any]) -> str:
    inside = f"{port.get('PrivatePort')}/{port.get('Type', 'tcp')}"
    if not port.get("PublicPort"):
        return inside
    ip = port.get("IP") or "0.0.0.0"
    host = f"[{ip}]" if ":" in ip else ip
    return f"{host}:{port['PublicPort']}->{inside}"
