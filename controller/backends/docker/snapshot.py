"""The engine's answers as observed values (pure): containers, networks and volumes, marked as
ours (``io.stackctl.managed``) or not, and the slot of a container Compose named.

No engine calls here: ``Engine.observe`` lists and inspects, this module reads what came back.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from controller.models.observed import (
    CONFIG_HASH_LABEL,
    MANAGED_LABEL,
    NETWORK_LABEL,
    NUMBER_LABEL,
    ONEOFF_LABEL,
    OWN_HASH_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    VERSION_LABEL,
    VOLUME_LABEL,
    ContainerConfig,
    ObservedContainer,
    ObservedNetwork,
    ObservedVolume,
    container_name,
)


def network_of(summary: dict[str, Any]) -> tuple[ObservedNetwork, bool]:
    labels = summary.get("Labels") or {}
    network = ObservedNetwork(summary["Id"], summary["Name"], labels.get(NETWORK_LABEL, ""))
    return network, labels.get(MANAGED_LABEL) == "true"


def volume_of(summary: dict[str, Any]) -> tuple[ObservedVolume, bool]:
    labels = summary.get("Labels") or {}
    return ObservedVolume(summary["Name"], labels.get(VOLUME_LABEL, "")), (
        labels.get(MANAGED_LABEL) == "true"
    )


def unique(found: Any) -> list[Any]:
    """Each object once (found by label and by name), by name: the engine lists networks in no
    set order, and a snapshot is compared with others (``Fleet.snapshot``, tests)."""
    seen: dict[str, Any] = {}
    for obj, managed in found:
        seen.setdefault(getattr(obj, "id", None) or obj.name, (obj, managed))
    return sorted(seen.values(), key=lambda pair: (pair[0].name, getattr(pair[0], "id", "")))


def compose_slot(stack: str, name: str) -> tuple[str, int] | None:
    """(service, number) of a container named like Compose names them: v2 ``stack-svc-1``,
    v1 ``stack_svc_1``; ``None`` for any other name."""
    for sep in ("-", "_"):
        prefix = f"{stack}{sep}"
        service, _, number = name.removeprefix(prefix).rpartition(sep)
        if name.startswith(prefix) and service and number.isdigit():
            return service, int(number)
    return None


def foreign_summaries(
    stack: str, *, labelled: list[dict[str, Any]], named: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The project's containers without our label, from the engine's lists: among those
    ``labelled`` with Compose's project label (not a ``docker compose run`` one-off), and,
    among those ``named`` like the stack, those with no project label at all whose name is a
    v2 (``stack-svc-1``) or v1 (``stack_svc_1``) slot's (marked ``_stack``: placed by name)."""
    found = {}
    for c in labelled:
        labels = c.get("Labels") or {}
        # A `docker compose run` container is a person's one-off job, not a replica.
        if labels.get(MANAGED_LABEL) != "true" and labels.get(ONEOFF_LABEL) != "True":
            found[c["Id"]] = c
    for c in named:
        labels = c.get("Labels") or {}
        name = (c.get("Names") or [""])[0].lstrip("/")
        if PROJECT_LABEL not in labels and compose_slot(stack, name) is not None:
            found[c["Id"]] = {**c, "_stack": stack}
    return list(found.values())


def container_of(info: dict[str, Any], *, stack: str | None = None) -> ObservedContainer:
    """An observed container; with ``stack``, one without Compose labels, placed by its name."""
    labels = info["Config"].get("Labels") or {}
    state = info["State"]
    health = (state.get("Health") or {}).get("Status")
    slot = compose_slot(stack, info["Name"].lstrip("/")) if stack else None
    service, number = slot or (labels.get(SERVICE_LABEL, ""), labels.get(NUMBER_LABEL, "0"))
    return ObservedContainer(
        id=info["Id"],
        name=info["Name"].lstrip("/"),
        service=service,
        number=int(number or 0),
        config_hash=labels.get(CONFIG_HASH_LABEL, ""),
        image_id=info["Image"],
        state=state.get("Status", "unknown"),
        health=health,
        exit_code=state.get("ExitCode"),
        networks=frozenset((info["NetworkSettings"].get("Networks") or {}).keys()),
        version=labels.get(VERSION_LABEL),
        managed=labels.get(MANAGED_LABEL) == "true",
        own_hash=labels.get(OWN_HASH_LABEL, ""),
        config=config_of(info["Config"]),
    )


def config_of(config: dict[str, Any]) -> ContainerConfig:
    """An inspected container's ``Config``, as the planner compares it with a service."""

    def words(value: Any) -> tuple[str, ...] | None:
        return None if value is None else tuple(value)

    env = [item.partition("=") for item in config.get("Env") or ()]
    return ContainerConfig(
        image=config.get("Image") or "",
        command=words(config.get("Cmd")),
        entrypoint=words(config.get("Entrypoint")),
        env=tuple((name, value) for name, _, value in env),
        labels=tuple(sorted((config.get("Labels") or {}).items())),
        user=config.get("User") or "",
        working_dir=config.get("WorkingDir") or "",
    )


def in_slots(
    stack: str, foreign: list[ObservedContainer]
) -> tuple[list[ObservedContainer], list[ObservedContainer]]:
    """The project's containers without our label split in two: those ``docker compose`` (v2)
    made in one of the stack's slots (its labels, and the slot's own name: they are the
    stack's containers, ``managed=False``), and the rest (Compose v1's names, containers
    placed only by their name, a fixed ``container_name``: foreign, replaced on adoption)."""
    made = [
        c
        for c in foreign
        if c.config_hash
        and c.service
        and c.name == container_name(stack, c.service, number=c.number)
    ]
    return made, [c for c in foreign if c not in made]


# `docker ps`'s status of a running container with a healthcheck: "Up 3 minutes (healthy)",
# "(unhealthy)" or "(health: starting)" (the engine writes it from State.Health.Status).
_HEALTH_IN_STATUS = re.compile(r"\((healthy|unhealthy|health: starting)\)$")


def container_of_summary(summary: dict[str, Any]) -> ObservedContainer | None:
    """The observed container a *running* container's list entry describes, equal to what
    ``container_of`` makes of its inspection; ``None`` for any other state (its exit code and
    health are not in the list entry: inspect it)."""
    if summary.get("State") != "running":
        return None
    labels = summary.get("Labels") or {}
    health = _HEALTH_IN_STATUS.search(summary.get("Status") or "")
    networks = (summary.get("NetworkSettings") or {}).get("Networks") or {}
    return ObservedContainer(
        id=summary["Id"],
        name=(summary.get("Names") or ["/"])[0].lstrip("/"),
        service=labels.get(SERVICE_LABEL, ""),
        number=int(labels.get(NUMBER_LABEL, "0") or 0),
        config_hash=labels.get(CONFIG_HASH_LABEL, ""),
        image_id=summary["ImageID"],
        state="running",
        health=None if health is None else health[1].removeprefix("health: "),
        exit_code=0,  # the engine resets it when the container starts
        networks=frozenset(networks),
        version=labels.get(VERSION_LABEL),
        managed=labels.get(MANAGED_LABEL) == "true",
        own_hash=labels.get(OWN_HASH_LABEL, ""),
    )


_FRACTION = re.compile(r"\.(\d+)")


def last_tag_time(info: dict[str, Any]) -> datetime | None:
    """An inspected image's ``Metadata.LastTagTime`` (UTC), ``None`` when never tagged here
    (the engine says ``0001-01-01T00:00:00Z``) or unreadable. The engine writes nanoseconds;
    Python reads microseconds."""
    text = ((info.get("Metadata") or {}).get("LastTagTime") or "").replace("Z", "+00:00")
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if when.year <= 1 else when.astimezone(UTC)
