"""What ``stackctl ps`` shows of the engine's container list (``GET /containers/json``), from
the list as the engine gives it: no docker-py here, so that the CLI's quick ``ps``
(``cli/quick.py``, through ``plain_api``) and ``containers.list_containers`` (docker-py) make
the same rows; and ``describe``'s services table of a ``Snapshot`` (``container_rows``), for
``ContainerBackend.view`` and the quick ``describe`` alike.

Containers labelled ``io.stackctl.managed=true`` are listed, and those ``docker compose`` made
in the slots of a stack stackctl holds (as the planner counts them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from controller.backends.interface import Table
from controller.models.observed import (
    MANAGED_LABEL,
    NUMBER_LABEL,
    ONEOFF_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    VERSION_LABEL,
    Snapshot,
    container_name,
)

_HEALTH = re.compile(r"\((healthy|unhealthy|health: starting)\)")
PS_HEADERS = ["NAME", "SERVICE", "STATE", "HEALTH", "STATUS", "PORTS", "VERSION"]


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


def project_filter(stack: str | None) -> list[str]:
    """The label filter of the list: the stack's project, or every Compose project."""
    return [f"{PROJECT_LABEL}={stack}"] if stack else [PROJECT_LABEL]


def summarize(listed: list[dict[str, Any]]) -> list[ContainerSummary]:
    """stackctl's containers of the list (and those ``docker compose`` made in a stackctl
    stack's slots: the planner keeps them as the stack's when they are current), by stack,
    service and number."""
    ours = [item for item in listed if (item.get("Labels") or {}).get(MANAGED_LABEL) == "true"]
    held = {(item.get("Labels") or {}).get(PROJECT_LABEL) for item in ours}
    made = [item for item in listed if item not in ours and _in_slot(item, held=held)]
    found = [_summary(item) for item in [*ours, *made]]
    return sorted(found, key=lambda c: (c.stack, c.service, c.number, c.name))


def ps_table(found: list[ContainerSummary], *, every: bool) -> tuple[list[str], list[list[Any]]]:
    """``ps``' headers and rows; ``every`` (no stack named): each row starts with its stack."""
    rows = [
        [c.name, c.service, c.state, c.health, c.status, ", ".join(c.ports), c.version]
        for c in found
    ]
    if not every:
        return PS_HEADERS, rows
    return ["STACK", *PS_HEADERS], [[c.stack, *row] for c, row in zip(found, rows, strict=True)]


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


def container_rows(desired: list[str], snapshot: Snapshot | None) -> list[dict[str, Any]]:
    """``describe``'s services: one row per container, in desired order; a desired service
    without one says missing, containers of services no longer desired are listed after
    (orphans)."""
    if snapshot is None:
        return [_row(n, None, "unknown") for n in desired]
    observed = sorted({c.service for c in snapshot.containers} - set(desired))
    rows: list[dict[str, Any]] = []
    for service in [*desired, *observed]:
        containers = snapshot.containers_of(service)
        if not containers:
            rows.append(_row(service, None, "missing"))
        for c in containers:
            state = c.state if c.exit_code in (None, 0) else f"{c.state} ({c.exit_code})"
            shown = service if service in desired else f"{service} (orphan)"
            rows.append(_row(shown, c.name, state, health=c.health, version=c.version))
    return rows


def _row(
    service: str,
    container: str | None,
    state: str,
    *,
    health: str | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    return {
        "service": service,
        "container": container,
        "state": state,
        "health": health,
        "version": version,
    }


def services_table(rows: list[dict[str, Any]]) -> Table:
    """``describe``'s ``Services`` table of ``container_rows``."""
    return Table(
        ["SERVICE", "CONTAINER", "STATE", "HEALTH", "VERSION"],
        [[r["service"], r["container"], r["state"], r["health"], r["version"]] for r in rows],
        heading="Services",
    )
