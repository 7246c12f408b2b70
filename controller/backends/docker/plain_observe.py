"""A stack's containers as ``DockerObserving.observe`` finds them, read over the local engine's
socket without docker-py (``plain_api``): for the CLI's quick ``describe``
(``cli/quick_describe.py``), which shows only the snapshot's containers.

The same lists and inspections as ``observe`` makes for them, read by the same functions
(``snapshot``): the containers with the stack's project label, ours among them (a running one
from its list entry, any other inspected), and those ``docker compose`` made in the stack's
slots (found by label or by name, inspected). The networks, volumes and one-off containers
``observe`` also lists are not shown by ``describe`` and not asked for. ``None`` whenever the
engine answers anything unexpected: the caller then takes docker-py's path.
"""

from __future__ import annotations

import json
from typing import Any

from controller.backends.docker.plain_api import get, get_json
from controller.backends.docker.snapshot import (
    container_of,
    container_of_summary,
    foreign_summaries,
    in_slots,
)
from controller.models.observed import MANAGED_LABEL, PROJECT_LABEL, ObservedContainer, Snapshot


class _Unexpected(Exception):
    """The engine answered something ``observe`` would not read as it reads it."""


def observe_containers(stack: str, *, socket_path: str, timeout: float) -> Snapshot | None:
    """The stack's ``Snapshot`` with its containers only (ours and those Compose made in its
    slots, by service and number), or ``None`` when the engine does not answer as expected."""
    try:
        listed = _list({"label": [f"{PROJECT_LABEL}={stack}"]}, socket_path, timeout)
        ours = [c for c in listed if (c.get("Labels") or {}).get(MANAGED_LABEL) == "true"]
        containers = _inspect_all(ours, socket_path, timeout, full=False)
        named = _list({"name": [stack]}, socket_path, timeout)
        foreign = foreign_summaries(stack, labelled=listed, named=named)
        inspected = _inspect_all(foreign, socket_path, timeout, full=True)
    except (_Unexpected, KeyError, TypeError, ValueError, AttributeError):
        return None
    made, _ = in_slots(stack, inspected)
    found = sorted([*containers, *made], key=lambda c: (c.service, c.number))
    return Snapshot(stack=stack, containers=tuple(found))


def _list(filters: dict[str, list[str]], socket_path: str, timeout: float) -> list[Any]:
    """``containers(all=True, filters=...)`` as docker-py asks it."""
    query = {"limit": "-1", "all": "1", "size": "0", "trunc_cmd": "0"}
    listed = get_json(
        "/containers/json",
        {**query, "filters": json.dumps(filters)},
        socket_path=socket_path,
        timeout=timeout,
    )
    if not isinstance(listed, list) or not all(isinstance(c, dict) for c in listed):
        raise _Unexpected
    return listed


def _inspect_all(
    summaries: list[dict[str, Any]], socket_path: str, timeout: float, *, full: bool
) -> list[ObservedContainer]:
    """``DockerObserving._inspect_all``: a running container from its list entry (unless
    ``full`` or placed by name), any other inspected; one gone meanwhile is left out."""
    containers = []
    for summary in summaries:
        known = None if "_stack" in summary or full else container_of_summary(summary)
        if known is not None:
            containers.append(known)
            continue
        answer = get(
            f"/containers/{summary['Id']}/json", {}, socket_path=socket_path, timeout=timeout
        )
        if answer is not None and answer.status == 404:
            continue  # removed between list and inspect: not there
        if answer is None or answer.status != 200:
            raise _Unexpected
        containers.append(container_of(json.loads(answer.body), stack=summary.get("_stack")))
    return containers
