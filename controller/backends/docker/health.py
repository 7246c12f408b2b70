"""Stack health from a snapshot, Argo CD style: pure, like the planner.

``Healthy``: every wanted replica runs (or finished its one-shot run with code 0) and those with
a healthcheck report healthy. ``Progressing``: something is starting (health ``starting``,
state ``created``/``restarting``). ``Degraded``: a container is unhealthy or exited with an
error. ``Missing``: a wanted replica does not exist.
"""

from __future__ import annotations

from controller.backends.docker.planner import replica_names
from controller.backends.shared.verdict import verdict
from controller.desired import DesiredStack
from controller.models.enums import HealthStatus
from controller.models.observed import Snapshot


def assess_health(desired: DesiredStack, observed: Snapshot) -> tuple[HealthStatus, str]:
    """The stack's health and a one-line reason (empty when Healthy)."""
    by_name = {c.name: c for c in observed.containers}
    missing, degraded, progressing = [], [], []
    for service_name, service in sorted(desired.compose.services.items()):
        for _, name in replica_names(desired.name, service_name, service=service):
            container = by_name.get(name)
            if container is None:
                missing.append(name)
            elif container.health == "unhealthy":
                degraded.append(f"{name} is unhealthy")
            elif container.state == "exited":
                if container.exit_code != 0 or service.restart in ("always", "unless-stopped"):
                    degraded.append(f"{name} exited with code {container.exit_code}")
            elif container.state in ("created", "restarting") or container.health == "starting":
                progressing.append(f"{name} is {container.health or container.state}")
            elif container.state not in ("running", "paused"):
                degraded.append(f"{name} is {container.state}")
    return verdict(degraded, missing, progressing)
