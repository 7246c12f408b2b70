"""What ``stackctl ps``, ``logs`` and ``version`` read from the engine: container summaries,
container logs and the engine's version.

Read-only, and beside ``Engine`` rather than in it: the reconciler never needs these. They go
through the engine's ``_call`` all the same, so they are counted and their errors translated.
Which containers ``ps`` lists, and how, is ``summaries.py`` (no docker-py: the CLI's quick ``ps``
reads the same list through ``plain_api``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import docker

from controller.backends.docker.observing import DockerObserving
from controller.backends.docker.summaries import ContainerSummary, project_filter, summarize
from controller.backends.shared.log_stream import log_lines

__all__ = [
    "ContainerSummary",
    "EngineVersion",
    "container_logs",
    "engine_version",
    "list_containers",
]


@dataclass(frozen=True)
class EngineVersion:
    version: str
    api_version: str
    min_api_version: str
    client_api_version: str  # what docker-py negotiated with the engine
    os: str
    arch: str
    docker_py: str


def list_containers(engine: DockerObserving, *, stack: str | None = None) -> list[ContainerSummary]:
    """stackctl's containers (of ``stack``, or of every stack), by stack, service and number;
    with them, those ``docker compose`` (v2) made in a stackctl stack's slots (the planner
    keeps them as the stack's when they are current: ``snapshot.in_slots``)."""
    listed = engine._call(
        "list_containers",
        f"listing containers of {stack or 'every stack'}",
        engine._api.containers,
        all=True,
        filters={"label": project_filter(stack)},
    )
    return summarize(listed)


def container_logs(
    engine: DockerObserving,
    container: str,
    *,
    follow: bool = False,
    tail: int | None = None,
    since: datetime | None = None,
) -> Iterator[str]:
    """The container's output (stdout and stderr), line by line, each line starting with the
    engine's RFC 3339 timestamp (nine fraction digits, so lines sort as text). With ``follow``
    the lines keep coming until the container stops (or the caller stops iterating)."""
    options: dict[str, Any] = {"timestamps": True, "tail": "all" if tail is None else tail}
    if since is not None:
        options["since"] = since
    chunks = engine._call(
        "logs",
        f"reading the logs of {container}",
        engine._api.logs,
        container,
        stream=True,
        follow=follow,
        **options,
    )
    return log_lines(chunks, doing=f"reading the logs of {container}")


def engine_version(engine: DockerObserving) -> EngineVersion:
    info = engine._call("version", "asking the engine its version", engine._api.version)
    return EngineVersion(
        version=str(info.get("Version", "?")),
        api_version=str(info.get("ApiVersion", "?")),
        min_api_version=str(info.get("MinAPIVersion", "?")),
        client_api_version=str(engine._api.api_version),
        os=str(info.get("Os", "?")),
        arch=str(info.get("Arch", "?")),
        docker_py=docker.__version__,
    )
