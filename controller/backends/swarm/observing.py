"""What a Swarm manager's listings say, as plain values: ``SwarmFleet`` splits the services
(with their tasks), networks, secrets and configs listed once by stack, and ``service_of``
makes one service's ``ObservedService`` (its tasks newest first, its template's digest, which
a task's copy equals while the task is current).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from controller.desired.digest import canonical_json, sha256_text
from controller.models.observed import MANAGED_LABEL
from controller.models.swarm import (
    SERVICE_LABEL,
    SPEC_HASH_LABEL,
    STACK_LABEL,
    ObservedObject,
    ObservedService,
    ObservedTask,
    SwarmSnapshot,
    spec_view,
)


class SwarmFleet:
    """What a swarm holds for the stacks listed, split by stack."""

    def __init__(
        self,
        services: list[dict[str, Any]],
        tasks: list[dict[str, Any]],
        networks: list[dict[str, Any]],
        secrets: list[dict[str, Any]],
        configs: list[dict[str, Any]],
    ) -> None:
        by_service: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for task in tasks:
            by_service[task.get("ServiceID", "")].append(task)
        self._services: dict[str, list[ObservedService]] = defaultdict(list)
        for info in services:
            stack = (info["Spec"].get("Labels") or {}).get(STACK_LABEL)
            if stack:
                self._services[stack].append(service_of(info, by_service[info["ID"]]))
        self._networks = _by_stack(
            networks, name=lambda n: n["Name"], labels=lambda n: n.get("Labels")
        )
        self._secrets = _by_stack(secrets, name=_spec_name, labels=_spec_labels)
        self._configs = _by_stack(configs, name=_spec_name, labels=_spec_labels)
        self._all_networks = frozenset(n["Name"] for n in networks)

    def snapshot(self, stack: str, **_: Any) -> SwarmSnapshot:
        return SwarmSnapshot(
            stack=stack,
            services=tuple(sorted(self._services.get(stack, ()), key=lambda s: s.service)),
            networks=tuple(self._networks.get(stack, ())),
            secrets=tuple(self._secrets.get(stack, ())),
            configs=tuple(self._configs.get(stack, ())),
            all_networks=self._all_networks,
        )


def _spec_name(obj: dict[str, Any]) -> str:
    return str(obj["Spec"]["Name"])


def _spec_labels(obj: dict[str, Any]) -> dict[str, str] | None:
    return obj["Spec"].get("Labels")


def _by_stack(
    objects: list[dict[str, Any]], *, name: Any, labels: Any
) -> dict[str, list[ObservedObject]]:
    out: dict[str, list[ObservedObject]] = defaultdict(list)
    for obj in objects:
        found = labels(obj) or {}
        if found.get(MANAGED_LABEL) == "true" and found.get(STACK_LABEL):
            out[found[STACK_LABEL]].append(
                ObservedObject(id=obj.get("ID") or obj["Id"], name=name(obj))
            )
    return out


def service_of(info: dict[str, Any], tasks: list[dict[str, Any]]) -> ObservedService:
    spec = info["Spec"]
    labels = spec.get("Labels") or {}
    update = info.get("UpdateStatus") or {}
    replicated = spec.get("Mode", {}).get("Replicated")
    newest_first = sorted(tasks, key=lambda t: _time(t.get("CreatedAt")), reverse=True)
    return ObservedService(
        id=info["ID"],
        name=spec["Name"],
        service=labels.get(SERVICE_LABEL, spec["Name"]),
        version=int(info["Version"]["Index"]),
        spec_hash=labels.get(SPEC_HASH_LABEL),
        image=spec["TaskTemplate"]["ContainerSpec"].get("Image", ""),
        replicas=None if replicated is None else int(replicated.get("Replicas", 1)),
        update_state=update.get("State"),
        update_message=update.get("Message", ""),
        update_started=update.get("StartedAt", ""),
        force_update=int(spec["TaskTemplate"].get("ForceUpdate") or 0),
        template=_digest(spec["TaskTemplate"]),
        tasks=tuple(_task_of(t) for t in newest_first),
        view=spec_view(spec),
    )


def _task_of(task: dict[str, Any]) -> ObservedTask:
    status = task.get("Status") or {}
    container = (status.get("ContainerStatus") or {}).get("ContainerID")
    return ObservedTask(
        id=task["ID"],
        slot=task.get("Slot"),
        node=task.get("NodeID", ""),
        state=status.get("State", ""),
        desired_state=task.get("DesiredState", ""),
        message=status.get("Message", ""),
        error=status.get("Err", ""),
        container_id=container,
        template=_digest(task.get("Spec") or {}),
    )


def _digest(template: dict[str, Any]) -> str:
    """A task template's digest: a task's copy of it equals its service's while current.
    Swarm's copy on a task leaves out ``Runtime`` (seen on 20.10), so the digest does too."""
    return sha256_text(canonical_json({k: v for k, v in template.items() if k != "Runtime"}))


def _time(value: str | None) -> datetime:
    if not value:
        return datetime.min
    try:  # Swarm writes nanoseconds; fromisoformat takes microseconds
        head, _, rest = value.rstrip("Z").partition(".")
        return datetime.fromisoformat(f"{head}.{(rest + '000000')[:6]}")
    except ValueError:
        return datetime.min
