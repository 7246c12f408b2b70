"""A Swarm stack's health from its ``SwarmSnapshot``: pure, like its planner (Argo CD's
statuses, as ``controller.backends.docker.health`` gives a container stack's)."""

from __future__ import annotations

from controller.backends.shared.verdict import verdict
from controller.backends.swarm.planner.service_spec import service_spec
from controller.desired import DesiredStack
from controller.models.enums import HealthStatus
from controller.models.swarm import (
    FAILED_UPDATE_STATES,
    PAUSED_UPDATE_STATES,
    SPEC_HASH_LABEL,
    SwarmSnapshot,
)

# Task states on the way to running (Swarm's order); any other non-running state is an end.
_SWARM_STARTING = frozenset(
    {"new", "pending", "assigned", "accepted", "preparing", "ready", "starting"}
)


def assess_swarm_health(desired: DesiredStack, observed: SwarmSnapshot) -> tuple[HealthStatus, str]:
    """A Swarm stack's health: ``Healthy`` when every service runs all its wanted tasks on its
    current spec (a task with a healthcheck is ``running`` only once healthy); ``Progressing``
    while tasks are on their way or an update is under way; ``Degraded`` when an update was
    paused or rolled back, or tasks fail; ``Missing`` when a service does not exist."""
    missing, degraded, progressing = [], [], []
    for name in sorted(desired.compose.services):
        service = observed.service(name)
        if service is None:
            missing.append(name)
            continue
        # A rollback that brought back what is declared now (the manifest was reverted) is no
        # failure any more: the spec hash says whether the running spec is the declared one.
        rolled_back_to_declared = (
            service.update_state in FAILED_UPDATE_STATES - PAUSED_UPDATE_STATES
            and service.spec_hash == service_spec(desired, name)["Labels"][SPEC_HASH_LABEL]
        )
        if service.update_state in FAILED_UPDATE_STATES and not rolled_back_to_declared:
            degraded.append(
                f"{name}: update {service.update_state}"
                + (f": {service.update_message}" if service.update_message else "")
            )
        elif service.running < service.wanted or (service.replicas is None and not service.wanted):
            count = f"{name}: {service.running}/{service.wanted} tasks running"
            starting = any(
                t.desired_state == "running" and t.state in _SWARM_STARTING for t in service.tasks
            )
            if starting or service.update_state == "updating":
                progressing.append(count)
            else:
                error = service.last_error
                degraded.append(count + (f" ({error})" if error else ""))
        elif service.outdated or service.update_state == "updating":
            progressing.append(f"{name}: update under way")
    return verdict(degraded, missing, progressing)
