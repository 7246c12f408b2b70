"""The Swarm planner: desired stack + ``SwarmSnapshot`` -> the steps that converge it. Pure.

Services, not containers: Swarm runs and replaces the tasks itself; the plan creates, updates
and removes services and the objects they use, in this order:

1. overlay networks that are missing;
2. secrets and configs that are missing (content-hashed names: a changed file is a new one);
3. services by ``depends_on`` level: each level's creates and updates, then a ``wait`` per
   changed service until Swarm says it converged (``UpdateStatus`` completed, every wanted
   task running, which for a service with a healthcheck means healthy), before the next
   level starts: this is how ``depends_on`` conditions are honoured on a Swarm (one level at
   a time; ``service_started`` and ``service_healthy`` both wait for running tasks);
4. services of the stack that are no longer declared (with ``prune``);
5. the stack's secrets, configs and networks nothing declared uses any more (the old
   contents of a rotated secret among them), last, once the services moved off them.

A service is updated when its spec hash label differs from the desired spec's hash; the
reason names what changed when the previous version's spec is the one running ("image
changed", "replicas 1 -> 3"), else that it was changed outside stackctl.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from controller.backends.shared.problems import in_file
from controller.backends.shared.steps import Plan, Step, StepKind
from controller.backends.swarm.planner.service_spec import (
    SPEC_HASH_LABEL,
    service_spec,
    swarm_problems,
    wanted_files,
)
from controller.desired import DesiredStack
from controller.desired.ordering import dependency_levels
from controller.models.swarm import (
    PAUSED_UPDATE_STATES,
    ObservedService,
    SwarmSnapshot,
    spec_view,
)


def swarm_plan(
    desired: DesiredStack, observed: SwarmSnapshot, *, previous: DesiredStack | None = None
) -> Plan:
    levels = dependency_levels(desired.compose.services)
    problems = (*in_file(desired, swarm_problems(desired)), *_missing_externals(desired, observed))
    steps: list[Step] = [*_network_steps(desired, observed), *_file_steps(desired, observed)]
    for level, names in enumerate(levels):
        changed = []
        for name in names:
            step = _service_step(desired, name, observed.service(name), previous, level)
            if step is not None:
                steps.append(step)
                changed.append(name)
        for name in changed:
            condition = _strongest_condition(desired, name)
            steps.append(
                Step(
                    StepKind.WAIT,
                    name,
                    "every task running" + (", healthy" if _has_healthcheck(desired, name) else ""),
                    service=name,
                    level=level,
                    condition=condition,
                )
            )
    steps += _leftover_steps(desired, observed, level=len(levels))
    return Plan(desired.name, tuple(steps), problems, tuple(tuple(n) for n in levels))


def swarm_teardown(observed: SwarmSnapshot) -> Plan:
    """Remove what the Swarm runs for the stack: services, then secrets, configs, networks.
    Volumes stay: Swarm creates them on whichever node ran a task, and they hold data."""
    steps = [
        Step(StepKind.REMOVE_SERVICE, s.name, "deleted", service=s.service, object_id=s.id)
        for s in observed.services
    ]
    steps += _removals(observed, keep=set(), why="deleted", level=1)
    return Plan(observed.stack, tuple(steps))


def _network_steps(desired: DesiredStack, observed: SwarmSnapshot) -> Iterable[Step]:
    have = {n.name for n in observed.networks}
    for key, network in sorted(desired.compose.networks.items()):
        if not network.external and network.name not in have:
            yield Step(StepKind.CREATE_NETWORK, network.name, "missing (overlay)", service=key)


def _file_steps(desired: DesiredStack, observed: SwarmSnapshot) -> Iterable[Step]:
    for kind, step_kind, have in (
        ("secrets", StepKind.CREATE_SECRET, observed.secrets),
        ("configs", StepKind.CREATE_CONFIG, observed.configs),
    ):
        names = {o.name for o in have}
        for name, key in sorted(wanted_files(desired, kind).items()):
            if name not in names:
                yield Step(
                    step_kind,
                    name,
                    f"{kind[:-1]} {key}: this content is not there yet",
                    service=key,
                )


def _missing_externals(desired: DesiredStack, observed: SwarmSnapshot) -> Iterable[str]:
    for key, network in sorted(desired.compose.networks.items()):
        if network.external and observed.all_networks and network.name not in observed.all_networks:
            yield f"networks.{key}: the external network {network.name!r} does not exist"


def _service_step(
    desired: DesiredStack,
    name: str,
    running: ObservedService | None,
    previous: DesiredStack | None,
    level: int,
) -> Step | None:
    spec = service_spec(desired, name)
    target = spec["Name"]
    wanted = spec["Labels"][SPEC_HASH_LABEL]
    if running is None:
        return Step(StepKind.CREATE_SERVICE, target, "not running", service=name, level=level)
    if running.spec_hash == wanted:
        if edited := _edited(running, spec):
            return _update(running, name, level, f"changed outside stackctl: {edited}")
        if running.update_state in PAUSED_UPDATE_STATES:
            why = f"its last update ended {running.update_state}: {running.update_message}"
            return _update(running, name, level, f"{why}; updated again")
        return None
    return _update(running, name, level, _why_update(desired, name, running, previous, spec))


def _update(running: ObservedService, name: str, level: int, why: str) -> Step:
    return Step(
        StepKind.UPDATE_SERVICE,
        running.name,
        why,
        service=name,
        level=level,
        object_id=running.id,
        object_version=running.version,
    )


def _edited(running: ObservedService, spec: dict[str, Any]) -> str:
    """What an edit by hand changed (``spec_view``) while leaving the hash label as it was."""
    if not running.view:
        return ""
    wanted = spec_view(spec)
    return ", ".join(
        f"{key} {running.view.get(key)!r} (declared {value!r})"
        for key, value in wanted.items()
        if running.view.get(key) != value
    )


def _why_update(
    desired: DesiredStack,
    name: str,
    running: ObservedService,
    previous: DesiredStack | None,
    spec: dict[str, Any],
) -> str:
    if previous is not None and name in previous.compose.services:
        before = service_spec(previous, name)
        if before["Labels"][SPEC_HASH_LABEL] == running.spec_hash:
            return _differences(before, spec) or "spec changed"
    return "changed outside stackctl (its spec hash is not the applied version's)"


def _differences(before: dict[str, Any], after: dict[str, Any]) -> str:
    """What differs between two specs, in Compose's words where there is one."""
    said = []
    old_task, new_task = before["TaskTemplate"], after["TaskTemplate"]
    old_c, new_c = old_task["ContainerSpec"], new_task["ContainerSpec"]
    if old_c.get("Image") != new_c.get("Image"):
        said.append("image changed")
    named = {"Env": "environment", "Mounts": "volumes", "Secrets": "secrets", "Configs": "configs"}
    for key, word in named.items():
        if old_c.get(key) != new_c.get(key):
            said.append(f"{word} changed")
    rest_c = {k for k in {*old_c, *new_c} if k not in named and k != "Image"}
    if any(old_c.get(k) != new_c.get(k) for k in rest_c):
        said.append("container settings changed")
    if old_task.get("Networks") != new_task.get("Networks"):
        said.append("networks changed")
    rest_t = {k for k in {*old_task, *new_task} if k not in ("ContainerSpec", "Networks")}
    if any(old_task.get(k) != new_task.get(k) for k in rest_t):
        said.append("resources, placement or restart policy changed")
    old_r = before["Mode"].get("Replicated", {}).get("Replicas")
    new_r = after["Mode"].get("Replicated", {}).get("Replicas")
    if before["Mode"] != after["Mode"]:
        said.append(
            f"replicas {old_r} -> {new_r}"
            if old_r is not None and new_r is not None
            else "mode changed"
        )
    for key, word in (
        ("EndpointSpec", "ports or endpoint mode"),
        ("UpdateConfig", "update_config"),
        ("RollbackConfig", "rollback_config"),
    ):
        if before.get(key) != after.get(key):
            said.append(f"{word} changed")
    if not said and before["Labels"] != after["Labels"]:
        said.append("labels changed")
    return ", ".join(said)


def _strongest_condition(desired: DesiredStack, name: str) -> str:
    """What dependents ask of ``name`` (informational on Swarm: the wait is the same)."""
    conditions = {
        dep.condition
        for service in desired.compose.services.values()
        for key, dep in service.depends_on.items()
        if key == name
    }
    return "service_healthy" if "service_healthy" in conditions else "service_started"


def _has_healthcheck(desired: DesiredStack, name: str) -> bool:
    check = desired.compose.services[name].healthcheck
    return check is not None and not check.disable


def _leftover_steps(desired: DesiredStack, observed: SwarmSnapshot, *, level: int) -> list[Step]:
    steps: list[Step] = []
    if desired.prune:
        steps += [
            Step(
                StepKind.REMOVE_SERVICE,
                s.name,
                "no longer declared",
                service=s.service,
                level=level,
                object_id=s.id,
            )
            for s in observed.services
            if s.service not in desired.compose.services
        ]
    keep = {
        *wanted_files(desired, "secrets"),
        *wanted_files(desired, "configs"),
        *(n.name for n in desired.compose.networks.values()),
    }
    return steps + _removals(observed, keep=keep, why="no longer used", level=level + 1)


def _removals(observed: SwarmSnapshot, *, keep: set[str], why: str, level: int) -> list[Step]:
    out: list[Step] = []
    for kind, objects in (
        (StepKind.REMOVE_SECRET, observed.secrets),
        (StepKind.REMOVE_CONFIG, observed.configs),
        (StepKind.REMOVE_NETWORK, observed.networks),
    ):
        out += [
            Step(kind, o.name, why, level=level, object_id=o.id)
            for o in sorted(objects, key=lambda o: o.name)
            if o.name not in keep
        ]
    return out
