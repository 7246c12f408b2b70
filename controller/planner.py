"""The planner: ``plan(desired, observed) -> Plan``, pure.

It decides, the reconciler acts (kopf's detect/process split). Given the desired stack and a
snapshot of what the engine has, it lists the steps that make them equal, each with a reason a
person can read. It reads no clock, no environment, no files, and calls nothing: the same
inputs always give the same plan, and an observed state equal to the desired one gives a plan
with no mutating step (zero engine calls).

Decisions written down here because DESIGN.md is silent on them:
- A stopped container is started again, except a *completed run*: exited with code 0 under
  restart policy ``no`` or ``on-failure`` (a one-shot job, e.g. a migration). Starting those on
  every resync would be a redeploy loop.
- Image drift: a container is recreated when the image its reference resolves to *now* differs
  from the one it runs (the tag was moved, e.g. by a build or a pull).
- ``wait`` steps are emitted only around services that change in this plan, so a plan of an
  unchanged stack stays empty.
- ``pull_policy: always`` is a step, not a difference: with ``pull_always`` the plan holds a
  PULL for such services (``refresh_steps``), which the reconciler carries out *before*
  observing again and planning without them; a pulled image whose id changed then shows as an
  image change (recreate), an unchanged one as nothing. ``diff`` plans without them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import KW_ONLY, dataclass, field
from enum import StrEnum
from typing import Any

from controller.desired import DesiredStack, Service
from controller.models.observed import ObservedContainer, Snapshot, container_name


class StepKind(StrEnum):
    CREATE_NETWORK = "create_network"
    CREATE_VOLUME = "create_volume"
    PULL = "pull"
    BUILD = "build"
    CREATE = "create"
    RECREATE = "recreate"
    START = "start"
    STOP = "stop"
    REMOVE = "remove"
    REMOVE_NETWORK = "remove_network"
    REMOVE_VOLUME = "remove_volume"
    WAIT = "wait"


NON_MUTATING = frozenset({StepKind.WAIT})
ALWAYS_PULL = "pull_policy always"


@dataclass(frozen=True)
class Step:
    """One action. ``target`` is what it acts on (a container, network, volume or image name);
    ``level`` is the service's depth in the ``depends_on`` graph (steps of different services
    in one level may run in parallel); ``container_id`` names the existing container acted on."""

    kind: StepKind
    target: str
    reason: str
    _: KW_ONLY
    service: str | None = None
    number: int | None = None
    container_id: str | None = None
    level: int = 0
    condition: str | None = None  # for WAIT: service_started | service_healthy | ...

    def describe(self) -> str:
        return f"{self.kind.value} {self.target}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """The step as plain data, for JSON output and the command log's structured lines."""
        return {
            "kind": self.kind.value,
            "target": self.target,
            "reason": self.reason,
            "service": self.service,
            "level": self.level,
        }


@dataclass(frozen=True)
class Plan:
    stack: str
    steps: tuple[Step, ...] = ()
    problems: tuple[str, ...] = ()  # reasons the plan must not run at all
    levels: tuple[tuple[str, ...], ...] = field(default=())  # services by dependency level

    @property
    def changes(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind not in NON_MUTATING)

    @property
    def in_sync(self) -> bool:
        return not self.changes and not self.problems

    @property
    def refresh_steps(self) -> tuple[Step, ...]:
        """The pulls of ``pull_policy: always`` services (asked for with ``pull_always``)."""
        return tuple(
            s for s in self.steps if s.kind is StepKind.PULL and s.reason.startswith(ALWAYS_PULL)
        )


def plan(
    desired: DesiredStack,
    observed: Snapshot,
    *,
    previous: DesiredStack | None = None,
    pull_always: bool = False,
) -> Plan:
    """Steps that take ``observed`` to ``desired``. ``previous`` (the last applied version, when
    known) only makes the reasons precise: "environment LOG_LEVEL changed" instead of a hash.
    ``pull_always``: include the pulls of ``pull_policy: always`` services (see the module)."""
    project = desired.compose
    levels = dependency_levels(project.services)
    steps: list[Step] = [*_network_steps(desired, observed), *_volume_steps(desired, observed)]
    problems: list[str] = []
    for level, names in enumerate(levels):
        for name in names:
            image_steps, image_problems = _image_steps(
                desired, name, observed=observed, pull_always=pull_always
            )
            steps += [_at(s, level) for s in image_steps]
            problems += image_problems
            steps += [
                _at(s, level)
                for s in _service_steps(
                    desired=desired, name=name, observed=observed, previous=previous
                )
            ]
    steps = _with_waits(desired, steps, levels=levels)
    steps += _orphan_steps(desired, observed)
    return Plan(desired.name, tuple(steps), tuple(problems), tuple(map(tuple, levels)))


def teardown(
    observed: Snapshot, *, order: list[list[str]] | None = None, remove_volumes: bool = False
) -> Plan:
    """DELETE_STACK: containers in reverse dependency order (``order`` = the last known
    levels; unknown services first), then networks, then volumes only when asked."""
    rank = {name: i for i, names in enumerate(order or []) for name in names}
    containers = sorted(
        observed.containers, key=lambda c: (-rank.get(c.service, len(rank) + 1), -c.number)
    )
    steps = [
        Step(
            StepKind.REMOVE,
            c.name,
            "stack deleted",
            service=c.service,
            number=c.number,
            container_id=c.id,
        )
        for c in containers
    ]
    steps += [Step(StepKind.REMOVE_NETWORK, n.name, "stack deleted") for n in observed.networks]
    if remove_volumes:
        steps += [Step(StepKind.REMOVE_VOLUME, v.name, "stack deleted") for v in observed.volumes]
    return Plan(observed.stack, tuple(steps))


def dependency_levels(services: dict[str, Service]) -> list[list[str]]:
    """Services grouped by depth in the ``depends_on`` graph, each level sorted by name. The
    loader has refused cycles and unknown services already."""
    depth: dict[str, int] = {}

    def visit(name: str) -> int:
        if name not in depth:
            deps = [d for d in services[name].depends_on if d in services]
            depth[name] = 1 + max((visit(d) for d in deps), default=-1)
        return depth[name]

    for name in services:
        visit(name)
    levels: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name in sorted(services):
        levels[depth[name]].append(name)
    return levels


def image_ref(stack: str, service_name: str, *, service: Service) -> str:
    """The image a service runs: its ``image``, or Compose's ``<stack>-<service>`` when built."""
    return service.image or f"{stack}-{service_name}"


def image_refs(desired: DesiredStack) -> list[str]:
    """Every image the stack's services run (what to ask the engine about when observing)."""
    services = desired.compose.services
    return sorted({image_ref(desired.name, n, service=s) for n, s in services.items()})


def replica_names(stack: str, service_name: str, *, service: Service) -> list[tuple[int, str]]:
    if service.container_name:
        return [(1, service.container_name)]
    return [(n, container_name(stack, service_name, n)) for n in range(1, service.replicas + 1)]


def _at(step: Step, level: int) -> Step:
    return Step(**{**step.__dict__, "level": level})


def _network_steps(desired: DesiredStack, observed: Snapshot) -> Iterable[Step]:
    have = {n.name for n in observed.networks}
    used = {key for s in desired.compose.services.values() for key in s.networks}
    for key, network in sorted(desired.compose.networks.items()):
        if not network.external and key in used and network.name not in have:
            yield Step(StepKind.CREATE_NETWORK, network.name, f"network {key} is missing")


def _volume_steps(desired: DesiredStack, observed: Snapshot) -> Iterable[Step]:
    have = {v.name for v in observed.volumes}
    for key, volume in sorted(desired.compose.volumes.items()):
        if not volume.external and volume.name not in have:
            yield Step(StepKind.CREATE_VOLUME, volume.name, f"volume {key} is missing")


def _image_steps(
    desired: DesiredStack, name: str, *, observed: Snapshot, pull_always: bool
) -> tuple[list[Step], list[str]]:
    service = desired.compose.services[name]
    ref = image_ref(desired.name, name, service=service)
    present = observed.images.get(ref) is not None
    policy = service.pull_policy
    if service.build is not None and (policy == "build" or not present):
        why = "pull_policy build" if policy == "build" else "the image is not built yet"
        return [Step(StepKind.BUILD, ref, f"build {name}: {why}", service=name)], []
    if policy == "always" and pull_always:
        return [Step(StepKind.PULL, ref, f"{ALWAYS_PULL} ({name})", service=name)], []
    if present:
        return [], []
    if policy == "never":
        return [], [f"service {name}: image {ref} is not present and pull_policy is never"]
    return [Step(StepKind.PULL, ref, f"image for {name} is not present", service=name)], []


def _service_steps(
    *, desired: DesiredStack, name: str, observed: Snapshot, previous: DesiredStack | None
) -> Iterable[Step]:
    """A service's containers, slot by slot: strays out first, then create, recreate or start
    each wanted replica, then remove the surplus."""
    service = desired.compose.services[name]
    image_id = observed.images.get(image_ref(desired.name, name, service=service))
    wanted = replica_names(desired.name, name, service=service)
    slots = _slots(observed.containers_of(name), wanted)
    existing = {number: kept for number, (kept, _) in slots.items() if kept is not None}
    yield from _stray_steps(name, slots)
    for number, cname in wanted:
        container = existing.get(number)
        if container is None:
            why = _why_create(
                number, name=name, have=len(existing), desired=desired, previous=previous
            )
            yield Step(StepKind.CREATE, cname, why, service=name, number=number)
        else:
            yield from _replica_steps(
                container, name=name, desired=desired, image_id=image_id, previous=previous
            )
    yield from _surplus_steps(existing, name=name, wanted=wanted)


def _stray_steps(
    name: str, slots: dict[int, tuple[ObservedContainer | None, list[ObservedContainer]]]
) -> Iterable[Step]:
    """Removals of the containers a slot does not keep; they come before the slot's own steps
    because a stray may hold the name the slot needs."""
    for number, (_, strays) in sorted(slots.items()):
        for stray in strays:
            yield Step(
                StepKind.REMOVE,
                stray.name,
                _why_stray(stray, number),
                service=name,
                number=number,
                container_id=stray.id,
            )


def _why_create(
    number: int, *, name: str, have: int, desired: DesiredStack, previous: DesiredStack | None
) -> str:
    """Why replica ``number`` of a service with ``have`` kept containers is created."""
    wanted = desired.compose.services[name].replicas
    if previous is None:
        return f"replicas {have} -> {wanted}" if have else "new service"
    before = previous.compose.services.get(name)
    if before is None:
        return "service added to the spec"
    if number > before.replicas:
        return f"replicas {before.replicas} -> {wanted}"
    return "container missing"


def _replica_steps(
    container: ObservedContainer,
    *,
    name: str,
    desired: DesiredStack,
    image_id: str | None,
    previous: DesiredStack | None,
) -> Iterable[Step]:
    """A container a wanted slot keeps (so it has the slot's name): recreated when it differs,
    started when it is stopped."""
    service = desired.compose.services[name]
    change = _missing_network(container, desired=desired, service=service) or _why_recreate(
        container,
        want_hash=desired.service_hashes[name],
        image_id=image_id,
        old=previous.compose.services.get(name) if previous else None,
        old_hash=previous.service_hashes.get(name) if previous else None,
        new=service,
    )
    if change:
        kind, why = StepKind.RECREATE, change
    elif not container.running and not _completed_run(container, service):
        kind, why = StepKind.START, f"container is {container.state}"
    else:
        return
    yield Step(
        kind,
        container.name,
        why,
        service=name,
        number=container.number,
        container_id=container.id,
    )


def _surplus_steps(
    existing: dict[int, ObservedContainer], *, name: str, wanted: list[tuple[int, str]]
) -> Iterable[Step]:
    """Removals of the kept containers whose slot is no longer wanted, highest number first."""
    wanted_numbers = {number for number, _ in wanted}
    surplus = sorted(
        (c for n, c in existing.items() if n not in wanted_numbers), key=lambda c: -c.number
    )
    for container in surplus:
        yield Step(
            StepKind.REMOVE,
            container.name,
            f"replicas {len(existing)} -> {len(wanted)}",
            service=name,
            number=container.number,
            container_id=container.id,
        )


def _slots(
    containers: list[ObservedContainer], wanted: list[tuple[int, str]]
) -> dict[int, tuple[ObservedContainer | None, list[ObservedContainer]]]:
    """Every observed container of a service, by its (service, number) slot: the one the slot
    keeps and the strays to remove. A slot can hold more than one container when a recreate
    was interrupted (its replacement, under a temporary name, carries the same labels) or when
    someone copied our labels; none may be silently ignored. A wanted slot keeps only the
    container under the slot's own name (the others are removed and, if none has the name, it
    is created anew); a slot that is not wanted keeps its best container, which is then surplus.
    """
    names = dict(wanted)
    by_number: dict[int, list[ObservedContainer]] = {}
    for container in containers:
        by_number.setdefault(container.number, []).append(container)
    slots: dict[int, tuple[ObservedContainer | None, list[ObservedContainer]]] = {}
    for number, members in by_number.items():
        if number in names:
            kept = next((c for c in members if c.name == names[number]), None)
        else:
            kept = min(members, key=lambda c: (not c.running, c.name))
        slots[number] = (kept, [c for c in members if c is not kept])
    return slots


def replacement_name(target: str, old_id: str, token: str) -> str:
    """The temporary name of a recreate's replacement (Compose's ``<old id>_<name>``, plus a
    token so that a leftover of an interrupted recreate never blocks the next one)."""
    return f"{old_id[:12]}_{target}_{token}"


_REPLACEMENT = re.compile(r"[0-9a-f]{12}_.+_[0-9a-f]+")


def _why_stray(container: ObservedContainer, number: int) -> str:
    if _REPLACEMENT.fullmatch(container.name):
        return f"replacement left over by an interrupted recreate (slot {number})"
    return f"duplicate container in slot {number}"


def _why_recreate(
    container: ObservedContainer,
    *,
    want_hash: str,
    image_id: str | None,
    old: Service | None,
    old_hash: str | None,
    new: Service,
) -> str | None:
    if container.config_hash != want_hash:
        if old is not None and old_hash == container.config_hash:
            return f"{describe_change(old, new)} changed"
        return f"configuration changed (hash {container.config_hash[:12]} -> {want_hash[:12]})"
    if image_id is not None and container.image_id != image_id:
        return f"image changed ({_short(container.image_id)} -> {_short(image_id)})"
    return None


def _missing_network(
    container: ObservedContainer, *, desired: DesiredStack, service: Service
) -> str | None:
    for key in sorted(service.networks):
        network = desired.compose.networks.get(key)
        if network is not None and network.name not in container.networks:
            return f"not attached to network {network.name}"
    return None


def describe_change(old: Service, new: Service) -> str:
    """``environment LOG_LEVEL, ports``: which keys differ between two service specs."""
    before, after = old.model_dump(mode="json"), new.model_dump(mode="json")
    parts = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a == b or key in ("replicas", "depends_on", "pull_policy"):
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            inner = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            parts.append(f"{key} {', '.join(inner)}" if len(inner) <= 3 else key)
        else:
            parts.append(key)
    return "; ".join(parts) or "configuration"


def _completed_run(container: ObservedContainer, service: Service) -> bool:
    return (
        container.state == "exited"
        and container.exit_code == 0
        and service.restart in ("no", "on-failure")
    )


def _with_waits(desired: DesiredStack, steps: list[Step], *, levels: list[list[str]]) -> list[Step]:
    """Insert, after each level, waits for the conditions the next levels depend on, when the
    dependency or the dependent changes in this plan."""
    changed = {s.service for s in steps if s.service and s.kind not in NON_MUTATING}
    out = [s for s in steps if s.service is None]
    for level, names in enumerate(levels):
        out += [s for s in steps if s.service in names]
        out += _wait_steps(desired, names, changed=changed, level=level)
    return out


def _wait_steps(
    desired: DesiredStack, names: list[str], *, changed: set[str | None], level: int
) -> list[Step]:
    """The waits after one level: for each of its services that a dependent changing in this
    plan (or itself changing) depends on, the strongest condition asked for."""
    waits: dict[str, tuple[str, str]] = {}
    for dependent, svc in desired.compose.services.items():
        for dep, rule in svc.depends_on.items():
            if dep in names and (dep in changed or dependent in changed):
                current = waits.get(dep)
                if current is None or _strength(rule.condition) > _strength(current[0]):
                    waits[dep] = (rule.condition, dependent)
    return [
        Step(
            StepKind.WAIT,
            dep,
            f"{dependent} depends on it ({condition})",
            service=dep,
            level=level,
            condition=condition,
        )
        for dep, (condition, dependent) in sorted(waits.items())
    ]


def _strength(condition: str) -> int:
    return ["service_started", "service_healthy", "service_completed_successfully"].index(condition)


def _orphan_steps(desired: DesiredStack, observed: Snapshot) -> Iterable[Step]:
    if not desired.prune:
        return
    services = desired.compose.services
    for container in sorted(observed.containers, key=lambda c: (c.service, -c.number)):
        if container.service not in services:
            yield Step(
                StepKind.REMOVE,
                container.name,
                "service no longer in the spec (prune)",
                service=container.service,
                number=container.number,
                container_id=container.id,
            )
    wanted = {n.name for n in desired.compose.networks.values()}
    for network in observed.networks:
        if network.name not in wanted:
            yield Step(
                StepKind.REMOVE_NETWORK, network.name, "network no longer in the spec (prune)"
            )


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


def explain(steps: Iterable[Step]) -> list[dict[str, Any]]:
    """Steps as plain data, for JSON output and logs."""
    return [s.to_dict() for s in steps]
