"""``DockerObserving``: everything that only looks at a Docker engine (``observe``,
``observe_fleet``, image and container facts), on the shared connection
(``shared.calls.EngineConnection``); ``engine.Engine`` adds the calls that change something.

Only objects labelled ``io.stackctl.managed=true`` *and* with the stack's Compose project label
are ever seen (and, apart, the project's objects made by ``docker compose``, for adoption).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from controller.backends.docker.fleet import Fleet
from controller.backends.docker.snapshot import (
    container_of,
    container_of_summary,
    foreign_summaries,
    in_slots,
    last_tag_time,
    network_of,
    unique,
    volume_of,
)
from controller.backends.shared.calls import MUTATING, EngineCalls, EngineConnection
from controller.models.errors import NotFoundError
from controller.models.observed import (
    MANAGED_LABEL,
    PROJECT_LABEL,
    ObservedContainer,
    Snapshot,
)

__all__ = ["MUTATING", "DockerObserving", "EngineCalls", "EngineConnection"]


class DockerObserving(EngineConnection):
    """What a Docker engine runs for a stack, looked at (never changed)."""

    # -- observing ---------------------------------------------------------------------------

    def observe(
        self,
        stack: str,
        *,
        images: list[str] = (),
        names: list[str] = (),
        by_name: bool = True,
        reuse: Snapshot | None = None,
    ) -> Snapshot:
        """Everything labelled as ``stack``'s, and the image id each reference resolves to; and,
        apart, the project's objects without our label (made by ``docker compose``): containers
        and volumes/networks by project label, containers by Compose v1/v2 name (unless
        ``by_name`` is false: a list of every container on the engine, which a health wait
        polling the stack it just converged can spare), and the networks and volumes named in
        ``names``. ``reuse``: an observation of the stack moments ago whose networks, volumes
        and images nothing changed since (a plan carried out after it changed only
        containers): they are taken from it and only the containers are listed again."""
        found = self._containers(stack, by_name=by_name)
        if reuse is not None:
            return replace(reuse, **found)
        project = {"label": [f"{PROJECT_LABEL}={stack}"]}
        networks = self._call(
            "list_networks", f"listing networks of {stack}", self._api.networks, filters=project
        )
        volumes = self._call(
            "list_volumes", f"listing volumes of {stack}", self._api.volumes, filters=project
        )
        networks += self._named("list_networks", self._api.networks, names, stack=stack)
        volumes = (volumes.get("Volumes") or []) + self._named(
            "list_volumes", self._api.volumes, names, stack=stack
        )
        all_networks = unique(network_of(n) for n in networks)
        all_volumes = unique(volume_of(v) for v in volumes)
        facts = {ref: self._image_facts(ref) for ref in images}
        return Snapshot(
            stack=stack,
            networks=tuple(n for n, managed in all_networks if managed),
            volumes=tuple(v for v, managed in all_volumes if managed),
            images={ref: fact[0] for ref, fact in facts.items()},
            image_tagged={ref: fact[1] for ref, fact in facts.items()},
            foreign_networks=tuple(n for n, managed in all_networks if not managed),
            foreign_volumes=tuple(v for v, managed in all_volumes if not managed),
            **found,
        )

    def _containers(self, stack: str, *, by_name: bool) -> dict[str, Any]:
        """The stack's containers as ``Snapshot`` fields: ``containers`` (ours, and those
        ``docker compose`` made in its slots), ``foreign_containers``, ``project_containers``."""
        project = {"label": [f"{PROJECT_LABEL}={stack}"]}
        doing = f"listing containers of {stack}"
        listed = self._call(
            "list_containers", doing, self._api.containers, all=True, filters=project
        )
        ours = [c for c in listed if (c.get("Labels") or {}).get(MANAGED_LABEL) == "true"]
        containers = self._inspect_all(ours)
        foreign_summaries = self._foreign_summaries(stack, labelled=listed, by_name=by_name)
        foreign_ids = {c["Id"] for c in foreign_summaries}
        # The project's containers without our label, `docker compose run` one-offs included
        # (a delete removes them all); each is inspected once.
        others = {c["Id"] for c in listed} - {c["Id"] for c in ours}
        oneoffs = [c for c in listed if c["Id"] in others - foreign_ids]
        inspected = self._inspect_all([*foreign_summaries, *oneoffs], full=True)
        made, foreign = in_slots(stack, [c for c in inspected if c.id in foreign_ids])
        return {
            "containers": tuple(sorted([*containers, *made], key=lambda c: (c.service, c.number))),
            "foreign_containers": tuple(
                sorted(foreign, key=lambda c: (c.service, c.number, c.name))
            ),
            "project_containers": tuple(
                sorted((c for c in inspected if c.id in others), key=lambda c: c.name)
            ),
        }

    def observe_fleet(self) -> Fleet:
        """The whole engine listed once (four calls and an inspection per container that is not
        running): every stack's ``Snapshot`` is then ``fleet.snapshot(stack, ...)``."""
        return Fleet(self._call, self._api)

    def _inspect_all(
        self, summaries: list[dict[str, Any]], *, full: bool = False
    ) -> list[ObservedContainer]:
        """The observed containers: a running one from its list entry (it says all but its
        ``Config``), any other, one placed by its name, or every one when ``full`` (those
        without our label: the planner compares their ``Config``), inspected."""
        containers = []
        for summary in summaries:
            known = None if "_stack" in summary or full else container_of_summary(summary)
            if known is not None:
                containers.append(known)
                continue
            try:
                info = self._call(
                    "inspect_container",
                    f"inspecting {summary['Id'][:12]}",
                    self._api.inspect_container,
                    summary["Id"],
                )
            except NotFoundError:
                continue  # removed between list and inspect: not there
            containers.append(container_of(info, stack=summary.get("_stack")))
        return containers

    def _foreign_summaries(
        self, stack: str, *, labelled: list[dict[str, Any]], by_name: bool
    ) -> list[dict[str, Any]]:
        """The project's containers without our label: among those ``labelled`` with Compose's
        project label, or, with no project label at all, by a v2 (``stack-svc-1``) or v1
        (``stack_svc_1``) name."""
        doing = f"listing Compose containers of {stack}"
        named = (
            self._call(
                "list_containers", doing, self._api.containers, all=True, filters={"name": stack}
            )
            if by_name
            else []
        )
        return foreign_summaries(stack, labelled=labelled, named=named)

    def _named(
        self, operation: str, fn: Callable[..., Any], names: list[str], *, stack: str
    ) -> list[dict[str, Any]]:
        """The networks (or volumes) with exactly these names (the engine's ``name`` filter
        matches parts of names)."""
        out: list[dict[str, Any]] = []
        for name in names:
            found = self._call(
                operation, f"looking up {name} of {stack}", fn, filters={"name": name}
            )
            listed = (found.get("Volumes") or []) if isinstance(found, dict) else found
            out += [o for o in listed if o["Name"] == name]
        return out

    def image_id(self, ref: str) -> str | None:
        return self._image_facts(ref)[0]

    def _image_facts(self, ref: str) -> tuple[str | None, datetime | None]:
        """The image ``ref`` names now (``None``: absent) and when a tag last named it
        (``Metadata.LastTagTime``: what Compose's ``daily``/``weekly``/``every_`` compare)."""
        try:
            info = self._call(
                "inspect_image", f"inspecting image {ref}", self._api.inspect_image, ref
            )
        except NotFoundError:
            return None, None
        return info["Id"], last_tag_time(info)

    def container_state(self, name_or_id: str) -> ObservedContainer | None:
        try:
            info = self._call(
                "inspect_container",
                f"inspecting {name_or_id}",
                self._api.inspect_container,
                name_or_id,
            )
        except NotFoundError:
            return None
        return container_of(info)

    def owner(self, container: str) -> str | None:
        """The stack (Compose project) a container belongs to when stackctl manages it; ``None``
        for a container that is not ours or no longer exists."""
        try:
            info = self._call(
                "inspect_container",
                f"inspecting {container}",
                self._api.inspect_container,
                container,
            )
        except NotFoundError:
            return None
        labels = info["Config"].get("Labels") or {}
        return labels.get(PROJECT_LABEL) if labels.get(MANAGED_LABEL) == "true" else None
