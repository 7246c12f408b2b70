"""A service's containers: which to create, recreate, start or remove, and why.

Every observed container of the service is placed in its (service, number) slot; a wanted slot
keeps only the container under its own name, everything else in a slot is a stray to remove.
Pure: plain values in, steps out.
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.backends.docker.planner.container_names import (
    image_ref,
    is_replacement,
    replica_names,
)
from controller.backends.shared.steps import Step, StepKind
from controller.desired import DesiredStack, Service
from controller.desired.legacy_hashes import legacy_hashes
from controller.models.observed import ADOPT_REASON, ObservedContainer, Snapshot


def service_steps(
    *, desired: DesiredStack, name: str, observed: Snapshot, previous: DesiredStack | None
) -> Iterable[Step]:
    """A service's containers, slot by slot: strays out first, then create, recreate or start
    each wanted replica, then remove the surplus."""
    service = desired.compose.services[name]
    image_id = observed.images.get(image_ref(desired.name, name, service=service))
    wanted = replica_names(desired.name, name, service=service)
    slots = _slots(observed.containers_of(name), wanted)
    existing = {number: kept for number, (kept, _) in slots.items() if kept is not None}
    adopted, leftovers = _foreign(observed, name=name, wanted=wanted, existing=existing)
    yield from _stray_steps(name, slots)
    yield from leftovers
    for number, cname in wanted:
        container = existing.get(number)
        if container is None and number in adopted:
            yield Step(
                StepKind.RECREATE,
                cname,
                ADOPT_REASON,
                service=name,
                number=number,
                container_id=adopted[number].id,
            )
        elif container is None:
            why = _why_create(
                number, name=name, have=len(existing), desired=desired, previous=previous
            )
            yield Step(StepKind.CREATE, cname, why, service=name, number=number)
        else:
            yield from _replica_steps(
                container, name=name, desired=desired, image_id=image_id, previous=previous
            )
    yield from _surplus_steps(existing, name=name, wanted=wanted)


def _foreign(
    observed: Snapshot,
    *,
    name: str,
    wanted: list[tuple[int, str]],
    existing: dict[int, ObservedContainer],
) -> tuple[dict[int, ObservedContainer], list[Step]]:
    """Compose's containers of the service: one per wanted slot that stackctl does not hold is
    replaced (a recreate, so one step per container); the others are removed first, since they
    may hold a name the slot needs."""
    numbers = dict(wanted)
    adopted: dict[int, ObservedContainer] = {}
    leftovers = []
    for c in sorted(
        (c for c in observed.foreign_containers if c.service == name),
        key=lambda c: (c.number, not c.running, c.name),
    ):
        if c.number in numbers and c.number not in existing and c.number not in adopted:
            adopted[c.number] = c
            continue
        why = f"{ADOPT_REASON}; slot {c.number} " + (
            "is taken" if c.number in numbers else "is not wanted"
        )
        leftovers.append(
            Step(StepKind.REMOVE, c.name, why, service=name, number=c.number, container_id=c.id)
        )
    return adopted, leftovers


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
        container, name=name, desired=desired, image_id=image_id, previous=previous
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


def _why_stray(container: ObservedContainer, number: int) -> str:
    if is_replacement(container.name):
        return f"replacement left over by an interrupted recreate (slot {number})"
    return f"duplicate container in slot {number}"


def _why_recreate(
    container: ObservedContainer,
    *,
    name: str,
    desired: DesiredStack,
    image_id: str | None,
    previous: DesiredStack | None,
) -> str | None:
    """Why a slot's container must be replaced (``None``: it is current).

    stackctl's containers are compared by stackctl's hash (``io.stackctl.config-hash``; on
    containers made before that label, the Compose label held it, or an earlier release's:
    ``legacy_hashes``). A container ``docker compose`` made is compared by Compose's own hash:
    equal means Compose made it from the same definitions, so it is kept as it is."""
    new = desired.compose.services[name]
    old = previous.compose.services.get(name) if previous else None
    if container.managed:
        want, have = desired.service_hashes[name], container.own_hash or container.config_hash
        same = have == want or (
            not container.own_hash and have in legacy_hashes(new, base=desired.base)
        )
        before = previous.service_hashes.get(name) if previous else None
        if not same:
            if old is not None and before == have:
                return f"{describe_change(old, new)} changed"
            return f"configuration changed (hash {have[:12]} -> {want[:12]})"
    else:
        why = _compose_made_differs(container, name=name, desired=desired, previous=previous)
        if why:
            return f"{ADOPT_REASON}; {why}"
    if image_id is not None and container.image_id != image_id:
        return f"image changed ({_short(container.image_id)} -> {_short(image_id)})"
    return None


def _compose_made_differs(
    container: ObservedContainer, *, name: str, desired: DesiredStack, previous: DesiredStack | None
) -> str | None:
    """Why a container ``docker compose`` made cannot stay (``None``: it can)."""
    new = desired.compose.services[name]
    want = desired.compose_hashes.get(name)
    if want is None:
        return "its configuration cannot be compared with Compose's (no Compose view)"
    if container.config_hash != want:
        old = previous.compose.services.get(name) if previous else None
        if (
            old is not None
            and previous is not None
            and previous.compose_hashes.get(name) == (container.config_hash)
        ):
            return f"{describe_change(old, new)} changed"
        fields = differing_fields(container, new)
        if fields:
            return f"{fields} changed"
        have = container.config_hash
        return f"its configuration differs (Compose hash {have[:12]} -> {want[:12]})"
    if new.secrets or new.configs:
        return "stackctl mounts its own copies of the service's secrets and configs"
    return None


def _missing_network(
    container: ObservedContainer, *, desired: DesiredStack, service: Service
) -> str | None:
    for key in sorted(service.networks):
        network = desired.compose.networks.get(key)
        if network is not None and network.name not in container.networks:
            return f"not attached to network {network.name}"
    return None


def differing_fields(container: ObservedContainer, service: Service) -> str:
    """``environment GREETING; labels tier``: what an inspected container shows differently
    from ``service`` ("" when nothing it shows does, or it was not inspected). Only what the
    service sets is compared: the image's own environment and labels are in the container."""
    config = container.config
    if config is None:
        return ""
    parts = []
    for key, want, have in (
        ("environment", service.environment, dict(config.env)),
        ("labels", service.labels, dict(config.labels)),
    ):
        names = sorted(k for k, v in want.items() if have.get(k) != v)
        if names:
            parts.append(f"{key} {', '.join(names)}" if len(names) <= 3 else key)
    for key, want_words, have_words in (
        ("command", service.command, config.command),
        ("entrypoint", service.entrypoint, config.entrypoint),
    ):
        if want_words is not None and tuple(want_words) != have_words:
            parts.append(key)
    for key, value, seen in (
        ("image", service.image, config.image),
        ("user", service.user, config.user),
        ("working_dir", service.working_dir, config.working_dir),
    ):
        if value is not None and value != seen:
            parts.append(key)
    return "; ".join(parts)


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


def _short(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]
