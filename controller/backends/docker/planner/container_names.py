"""The names the planner gives and looks for: the image a service runs, its replicas'
container names, and the temporary name of a recreate's replacement.

Pure string rules; the executor and the health assessment use the same ones.
"""

from __future__ import annotations

import re

from controller.desired import DesiredStack, Service
from controller.models.observed import container_name


def image_ref(stack: str, service_name: str, *, service: Service) -> str:
    """The image a service runs: its ``image``, or Compose's ``<stack>-<service>`` when built."""
    return service.image or f"{stack}-{service_name}"


def image_refs(desired: DesiredStack) -> list[str]:
    """Every image the stack's services run (what to ask the engine about when observing)."""
    services = desired.compose.services
    return sorted({image_ref(desired.name, n, service=s) for n, s in services.items()})


def replica_names(stack: str, service_name: str, *, service: Service) -> list[tuple[int, str]]:
    """Each replica a service wants: its number and its container name."""
    if service.container_name:
        return [(1, service.container_name)]
    return [
        (n, container_name(stack, service_name, number=n)) for n in range(1, service.replicas + 1)
    ]


def replacement_name(target: str, old_id: str, token: str) -> str:
    """The temporary name of a recreate's replacement (Compose's ``<old id>_<name>``, plus a
    token so that a leftover of an interrupted recreate never blocks the next one)."""
    return f"{old_id[:12]}_{target}_{token}"


_REPLACEMENT = re.compile(r"[0-9a-f]{12}_.+_[0-9a-f]+")


def is_replacement(name: str) -> bool:
    """Whether a container name has the shape ``replacement_name`` gives."""
    return _REPLACEMENT.fullmatch(name) is not None


def object_names(desired: DesiredStack) -> list[str]:
    """The names of the networks and volumes the stack makes (not external ones): the engine
    looks them up by name too, since Compose may have made them already."""
    project = desired.compose
    return sorted(
        {o.name for o in (*project.networks.values(), *project.volumes.values()) if not o.external}
    )
