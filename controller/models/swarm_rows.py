"""A Swarm stack as people read it: one row per service and one per task, from a
``SwarmSnapshot`` and the desired service names.

``stackctl describe`` (its table and ``-o json``) and the console's stack page show these rows,
so both say the same thing. Pure: no engine, no database; what an engine could not be asked is
the caller's to say (the rows then say ``unknown``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from controller.models.swarm import ObservedService, SwarmSnapshot


@dataclass(frozen=True)
class ServiceRow:
    service: str  # the compose key; ``KEY (orphan)`` for a service no longer desired
    name: str | None  # Swarm's name (STACK_KEY); None when not observed
    state: str  # unknown (engine not asked) | missing | present
    mode: str | None  # replicated | global
    running: int | None  # tasks running the current spec
    wanted: int | None  # the replica count, or (global) the tasks Swarm means to run
    image: str | None
    update_state: str | None  # Swarm's UpdateStatus.State (updating, completed, paused, ...)
    update_message: str
    error: str  # the newest task's error, if any

    @property
    def tasks(self) -> str:
        """``1/2``, or the state when there is nothing to count."""
        return self.state if self.running is None else f"{self.running}/{self.wanted}"

    @property
    def update(self) -> str:
        """``completed: update completed``, or the state alone, or ``-``."""
        if not self.update_state:
            return "-"
        return (
            f"{self.update_state}: {self.update_message}"
            if self.update_message
            else self.update_state
        )


@dataclass(frozen=True)
class TaskRow:
    id: str
    service: str  # the compose key (as in ServiceRow.service)
    slot: int | None  # None: a global service's task
    node: str  # the node's id
    state: str
    desired_state: str
    message: str
    error: str


def _ordered(desired: Iterable[str], snapshot: SwarmSnapshot) -> list[tuple[str, str]]:
    """(compose key, shown name): desired services first, in the order given, then orphans."""
    wanted = list(desired)
    orphans = sorted({s.service for s in snapshot.services} - set(wanted))
    return [(key, key) for key in wanted] + [(key, f"{key} (orphan)") for key in orphans]


def service_rows(desired: Iterable[str], snapshot: SwarmSnapshot | None) -> list[ServiceRow]:
    """One row per service: desired ones first (``missing`` when the swarm has none), then the
    services of the stack no longer desired (orphans); all ``unknown`` without a snapshot."""
    if snapshot is None:
        return [_absent(key, "unknown") for key in desired]
    rows = []
    for key, shown in _ordered(desired, snapshot):
        found = snapshot.service(key)
        rows.append(_absent(shown, "missing") if found is None else _present(shown, found))
    return rows


def task_rows(desired: Iterable[str], snapshot: SwarmSnapshot | None) -> list[TaskRow]:
    """Every task Swarm keeps for the stack's services, service by service in the order of
    ``service_rows``, newest first within a service (old tasks stay a while: their errors
    say why a slot was replaced)."""
    if snapshot is None:
        return []
    rows = []
    for key, shown in _ordered(desired, snapshot):
        found = snapshot.service(key)
        for t in found.tasks if found is not None else ():
            rows.append(
                TaskRow(t.id, shown, t.slot, t.node, t.state, t.desired_state, t.message, t.error)
            )
    return rows


def _absent(shown: str, state: str) -> ServiceRow:
    return ServiceRow(shown, None, state, None, None, None, None, None, "", "")


def _present(shown: str, s: ObservedService) -> ServiceRow:
    return ServiceRow(
        service=shown,
        name=s.name,
        state="present",
        mode="global" if s.replicas is None else "replicated",
        running=s.running,
        wanted=s.wanted,
        image=s.image,
        update_state=s.update_state,
        update_message=s.update_message,
        error=s.last_error,
    )
