"""A whole stack's plan: ``plan(desired, observed)`` and ``teardown(observed)``.

Networks and volumes first, then the services level by level of the ``depends_on`` graph (each
service's image, then its containers, see ``replicas``), waits between levels, and last the
orphans a ``prune`` removes. Pure: plain values in, a ``Plan`` out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from controller.backends.docker.planner.container_names import image_ref
from controller.backends.docker.planner.replicas import service_steps
from controller.backends.shared.steps import (
    ALWAYS_PULL,
    NON_MUTATING,
    REFRESH,
    Plan,
    Step,
    StepKind,
)
from controller.desired import DesiredStack
from controller.desired.ordering import dependency_levels
from controller.models.observed import ADOPT_REASON, Snapshot
from controller.sources.loader.units import parse_duration


def plan(
    desired: DesiredStack,
    observed: Snapshot,
    *,
    previous: DesiredStack | None = None,
    pull_always: bool = False,
    adopt: bool = False,
    now: datetime | None = None,
) -> Plan:
    """Steps that take ``observed`` to ``desired``. ``previous`` (the last applied version, when
    known) only makes the reasons precise: "environment LOG_LEVEL changed" instead of a hash.
    ``pull_always``: include the refresh steps of the pull policies (see the module): the pulls
    of ``always`` services, the builds of ``build`` ones, and the pulls of ``daily``,
    ``weekly`` and ``every_<duration>`` ones whose image a tag last named longer ago than
    that, as of ``now`` (none without ``now``: the planner reads no clock).
    ``adopt`` (or the stack's ``adopt``): take over what ``docker compose`` made (the module)."""
    project = desired.compose
    levels = dependency_levels(project.services)
    steps: list[Step] = [*_network_steps(desired, observed), *_volume_steps(desired, observed)]
    # Once stackctl has applied the stack, Compose's objects in it are someone running
    # `docker compose` on a stackctl stack, not a project to refuse.
    held = adopt or desired.adopt or previous is not None
    problems: list[str] = _adoption_problems(desired, observed, adopt=held)
    for level, names in enumerate(levels):
        for name in names:
            image_steps, image_problems = _image_steps(
                desired, name, observed=observed, pull_always=pull_always, now=now
            )
            steps += [_at(s, level) for s in image_steps]
            problems += image_problems
            steps += [
                _at(s, level)
                for s in service_steps(
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
    levels; unknown services first), then networks, then volumes only when asked.

    The containers are ours and, when the stack is stackctl's there (``observed.owned``, or
    an ``order`` known from its applied version), every other one that carries its Compose
    project label (``docker compose up`` recreated a replica without our label, ``docker
    compose run`` left a one-off, an adopted container kept as Compose made it): they are that
    stack's project, and would hold its network. Nothing else is touched: a project Compose started
    that stackctl never held (an apply refused it), a container placed in the project only by
    its name, or one of no project at all stays, and a network it holds fails to go (the
    runtime names the container)."""
    rank = {name: i for i, names in enumerate(order or []) for name in names}
    # Whether the stack is stackctl's there: something of it carries our label, or it was
    # applied (``order`` comes from its applied version; its containers may all be Compose's:
    # adopted as they were, or recreated by `docker compose up` since).
    stackctls = observed.owned or bool(order)
    held = [c for c in observed.containers if c.managed or stackctls]
    ours = {c.id for c in held if c.managed}
    seen = {c.id for c in held}
    labelled = [c for c in observed.project_containers if stackctls and c.id not in seen]
    containers = sorted(
        [*held, *labelled],
        key=lambda c: (-rank.get(c.service, len(rank) + 1), -c.number, c.name),
    )
    steps = [
        Step(
            StepKind.REMOVE,
            c.name,
            "stack deleted" if c.id in ours else "stack deleted (of its Compose project)",
            service=c.service,
            number=c.number,
            container_id=c.id,
        )
        for c in containers
    ]
    # Networks and volumes taken over from Compose go with the stack, unless Compose still
    # has containers in it that are not removed here (placed by name only: never adopted).
    removed = {c.id for c in containers}
    others = (*observed.foreign_containers, *observed.compose_made)
    taken = not [c for c in others if c.id not in removed]
    networks = [*observed.networks, *(observed.foreign_networks if taken else ())]
    volumes = [*observed.volumes, *(observed.foreign_volumes if taken else ())]
    steps += [Step(StepKind.REMOVE_NETWORK, n.name, "stack deleted") for n in networks]
    if remove_volumes:
        steps += [Step(StepKind.REMOVE_VOLUME, v.name, "stack deleted") for v in volumes]
    return Plan(observed.stack, tuple(steps))


def _at(step: Step, level: int) -> Step:
    return Step(**{**step.__dict__, "level": level})


def _adoption_problems(desired: DesiredStack, observed: Snapshot, *, adopt: bool) -> list[str]:
    """The refusal to touch a Compose project stackctl does not hold yet, unless asked to."""
    if not observed.foreign or adopt or observed.owned:
        return []
    return [
        f"compose project {desired.name} has objects stackctl did not create"
        f" ({observed.foreign_names()}); adopt them with `spec.adopt: true` or"
        " `stackctl apply --adopt`, or remove them"
    ]


def _network_steps(desired: DesiredStack, observed: Snapshot) -> Iterable[Step]:
    # Compose's networks are taken over by name: never a second network with the same name.
    have = {n.name for n in (*observed.networks, *observed.foreign_networks)}
    used = {key for s in desired.compose.services.values() for key in s.networks}
    for key, network in sorted(desired.compose.networks.items()):
        if not network.external and key in used and network.name not in have:
            yield Step(StepKind.CREATE_NETWORK, network.name, f"network {key} is missing")


def _volume_steps(desired: DesiredStack, observed: Snapshot) -> Iterable[Step]:
    have = {v.name for v in (*observed.volumes, *observed.foreign_volumes)}
    for key, volume in sorted(desired.compose.volumes.items()):
        if not volume.external and volume.name not in have:
            yield Step(StepKind.CREATE_VOLUME, volume.name, f"volume {key} is missing")


def _image_steps(
    desired: DesiredStack,
    name: str,
    *,
    observed: Snapshot,
    pull_always: bool,
    now: datetime | None,
) -> tuple[list[Step], list[str]]:
    service = desired.compose.services[name]
    ref = image_ref(desired.name, name, service=service)
    present = observed.images.get(ref) is not None
    policy = service.pull_policy
    if service.build is not None and not present:
        return [
            Step(StepKind.BUILD, ref, f"build {name}: the image is not built yet", service=name)
        ], []
    if service.build is not None and policy == "build":
        refresh = [Step(StepKind.BUILD, ref, f"{REFRESH} build ({name})", service=name)]
        return (refresh if pull_always else []), []
    if policy == "always" and pull_always:
        return [Step(StepKind.PULL, ref, f"{ALWAYS_PULL} ({name})", service=name)], []
    if not present:
        if policy == "never":
            return [], [f"service {name}: image {ref} is not present and pull_policy is never"]
        return [Step(StepKind.PULL, ref, f"image for {name} is not present", service=name)], []
    period = pull_period(policy)
    if period is not None and pull_always and now is not None:
        tagged = observed.image_tagged.get(ref)
        if tagged is None or now - tagged > period:
            when = f"last tagged {tagged:%Y-%m-%d %H:%M}" if tagged else "never tagged here"
            why = f"{REFRESH} {policy} ({name}: {when})"
            return [Step(StepKind.PULL, ref, why, service=name)], []
    return [], []


def pull_period(policy: str) -> timedelta | None:
    """How old an image may be under a periodic pull policy (Compose's ``daily``, ``weekly``,
    ``every_<duration>``); ``None`` for the others."""
    if policy == "daily":
        return timedelta(days=1)
    if policy == "weekly":
        return timedelta(days=7)
    if policy.startswith("every_"):
        return timedelta(microseconds=parse_duration(policy.removeprefix("every_")) // 1000)
    return None


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
                "service no longer in the spec (prune)"
                if container.managed
                else f"{ADOPT_REASON}; service no longer in the spec (prune)",
                service=container.service,
                number=container.number,
                container_id=container.id,
            )
    for container in sorted(observed.foreign_containers, key=lambda c: (c.service, -c.number)):
        if container.service not in services:
            yield Step(
                StepKind.REMOVE,
                container.name,
                f"{ADOPT_REASON}; service no longer in the spec (prune)",
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
