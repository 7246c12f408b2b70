"""One look at a whole engine: every stack's snapshot from four list calls.

``Engine.observe`` asks the engine about one stack (lists filtered by its labels, an inspection
per container, one per image), so a resync that way costs a round of calls per stack.
``Engine.observe_fleet`` lists the engine's containers, networks, volumes and images once;
``Fleet.snapshot(stack, images=..., names=...)`` then answers from memory what ``observe`` would
(a test compares the two on real stacks). A running container is read from its list entry
(state, health, networks and image are all there); any other is inspected, since its exit code is
not in the list, and only when it belongs to a Compose project. An image reference not among the
listed tags is inspected, once per fleet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from controller.backends.docker.snapshot import (
    compose_slot,
    container_of,
    container_of_summary,
    in_slots,
    network_of,
    unique,
    volume_of,
)
from controller.models.errors import NotFoundError
from controller.models.observed import (
    MANAGED_LABEL,
    ONEOFF_LABEL,
    PROJECT_LABEL,
    ObservedContainer,
    Snapshot,
)

Call = Callable[..., Any]  # Engine._call: (operation, doing, fn, *args, **kwargs)


class Fleet:
    """What one engine holds, listed once, split by Compose project."""

    def __init__(self, call: Call, api: Any) -> None:
        self._call, self._api = call, api
        summaries = call("list_containers", "listing containers", api.containers, all=True)
        # Each project's list entries, made observed containers when a stack asks (a stopped
        # container is inspected then: only those of the stacks looked at cost a call).
        self._ours: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._foreign: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._unlabelled: list[dict[str, Any]] = []  # placed by their name, per stack
        for summary in summaries:
            labels = summary.get("Labels") or {}
            project = labels.get(PROJECT_LABEL)
            if project is None:
                self._unlabelled.append(summary)
            elif labels.get(MANAGED_LABEL) == "true":
                self._ours[project].append(summary)
            elif labels.get(ONEOFF_LABEL) != "True":  # `docker compose run`: a one-off job
                self._foreign[project].append(summary)
        networks = call("list_networks", "listing networks", api.networks)
        volumes = call("list_volumes", "listing volumes", api.volumes).get("Volumes") or []
        self._networks = _Index(networks)
        self._volumes = _Index(volumes)
        self._tags: dict[str, str] = {}
        for image in call("list_images", "listing images", api.images):
            for tag in [*(image.get("RepoTags") or ()), *(image.get("RepoDigests") or ())]:
                self._tags.setdefault(tag, image["Id"])
        self._resolved: dict[str, str | None] = {}

    def snapshot(
        self, stack: str, *, images: Iterable[str] = (), names: Iterable[str] = ()
    ) -> Snapshot:
        """What ``Engine.observe(stack, images=..., names=...)`` would return now."""
        names = list(names)
        foreign = self._observed(self._foreign.get(stack, ()), full=True)
        for summary in self._unlabelled:
            if compose_slot(stack, (summary.get("Names") or ["/"])[0].lstrip("/")) is not None:
                info = self._inspect(summary["Id"])
                if info is not None:
                    foreign.append(container_of(info, stack=stack))
        made, foreign = in_slots(stack, foreign)
        networks = unique(network_of(n) for n in self._networks.of(stack, names))
        volumes = unique(volume_of(v) for v in self._volumes.of(stack, names))
        return Snapshot(
            stack=stack,
            containers=tuple(
                sorted([*self._observed(self._ours.get(stack, ())), *made], key=_slot)
            ),
            networks=tuple(n for n, managed in networks if managed),
            volumes=tuple(v for v, managed in volumes if managed),
            images={ref: self.image_id(ref) for ref in images},
            foreign_containers=tuple(sorted(foreign, key=lambda c: (c.service, c.number, c.name))),
            foreign_networks=tuple(n for n, managed in networks if not managed),
            foreign_volumes=tuple(v for v, managed in volumes if not managed),
        )

    def projects(self) -> set[str]:
        """The Compose projects with a container stackctl manages."""
        return set(self._ours)

    def image_id(self, ref: str) -> str | None:
        """The id ``ref`` resolves to, as ``Engine.image_id`` says: from the listed tags, or
        asked of the engine (once) when the reference is not written as a listed tag."""
        for candidate in _spellings(ref):
            if candidate in self._tags:
                return self._tags[candidate]
        if ref not in self._resolved:
            try:
                self._resolved[ref] = self._call(
                    "inspect_image", f"inspecting image {ref}", self._api.inspect_image, ref
                )["Id"]
            except NotFoundError:
                self._resolved[ref] = None
        return self._resolved[ref]

    def _observed(
        self, summaries: Iterable[dict[str, Any]], *, full: bool = False
    ) -> list[ObservedContainer]:
        """``full``: inspect running containers too (their ``Config`` is not in the list)."""
        found = []
        for summary in summaries:
            container = None if full else container_of_summary(summary)
            if container is None:
                info = self._inspect(summary["Id"])
                container = None if info is None else container_of(info)
            if container is not None:
                found.append(container)
        return found

    def _inspect(self, container_id: str) -> dict[str, Any] | None:
        try:
            return self._call(
                "inspect_container",
                f"inspecting {container_id[:12]}",
                self._api.inspect_container,
                container_id,
            )
        except NotFoundError:
            return None  # removed between list and inspect: not there


class _Index:
    """Networks (or volumes) by Compose project label and by name."""

    def __init__(self, listed: list[dict[str, Any]]) -> None:
        self._by_project: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in listed:
            project = (item.get("Labels") or {}).get(PROJECT_LABEL)
            if project is not None:
                self._by_project[project].append(item)
            self._by_name[item["Name"]].append(item)

    def of(self, stack: str, names: list[str]) -> list[dict[str, Any]]:
        """The stack's (by label), then those named in ``names``: as ``Engine.observe`` lists."""
        found = list(self._by_project.get(stack, ()))
        for name in names:
            found += self._by_name.get(name, ())
        return found


def _slot(container: ObservedContainer) -> tuple[str, int]:
    return container.service, container.number


def _spellings(ref: str) -> list[str]:
    """How the engine lists the tag ``ref`` names: ``busybox`` is ``busybox:latest``, and
    Docker Hub's ``docker.io/library/`` prefix is left out."""
    if "@" not in ref and ":" not in ref.rpartition("/")[2]:
        ref += ":latest"
    short = ref
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/"):
        short = short.removeprefix(prefix)
    return [ref] if short == ref else [ref, short]
