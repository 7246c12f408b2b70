"""The planner's values: a ``Step`` (what to do to which object, and why) and a ``Plan``.

Frozen data, no decisions: ``stack`` and ``replicas`` make them, the executor carries them out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import KW_ONLY, dataclass, field
from enum import StrEnum
from typing import Any


class StepKind(StrEnum):
    CREATE_NETWORK = "create_network"
    CREATE_VOLUME = "create_volume"
    PULL = "pull"
    BUILD = "build"
    CREATE = "create"
    RECREATE = "recreate"
    START = "start"
    STOP = "stop"
    REMOVE = "remove"
    REMOVE_NETWORK = "remove_network"
    REMOVE_VOLUME = "remove_volume"
    WAIT = "wait"
    # Swarm (swarm.planner): services, and immutable secrets and configs
    CREATE_SECRET = "create_secret"
    CREATE_CONFIG = "create_config"
    CREATE_SERVICE = "create_service"
    UPDATE_SERVICE = "update_service"
    REMOVE_SERVICE = "remove_service"
    REMOVE_SECRET = "remove_secret"
    REMOVE_CONFIG = "remove_config"


NON_MUTATING = frozenset({StepKind.WAIT})
REFRESH = "pull_policy"  # the reasons of refresh steps start with it (``Plan.refresh_steps``)
ALWAYS_PULL = f"{REFRESH} always"


@dataclass(frozen=True)
class Step:
    """One action. ``target`` is what it acts on (a container, network, volume or image name);
    ``level`` is the service's depth in the ``depends_on`` graph (steps of different services
    in one level may run in parallel); ``container_id`` names the existing container acted on."""

    kind: StepKind
    target: str
    reason: str
    _: KW_ONLY
    service: str | None = None
    number: int | None = None
    container_id: str | None = None
    level: int = 0
    condition: str | None = None  # for WAIT: service_started | service_healthy | ...
    # Swarm steps: the object acted on, and (UPDATE_SERVICE) the version Swarm must still be at
    object_id: str | None = None
    object_version: int | None = None

    def describe(self) -> str:
        return f"{self.kind.value} {self.target}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """The step as plain data, for JSON output and the command log's structured lines."""
        return {
            "kind": self.kind.value,
            "target": self.target,
            "reason": self.reason,
            "service": self.service,
            "level": self.level,
        }


@dataclass(frozen=True)
class Plan:
    stack: str
    steps: tuple[Step, ...] = ()
    problems: tuple[str, ...] = ()  # reasons the plan must not run at all
    levels: tuple[tuple[str, ...], ...] = field(default=())  # services by dependency level

    @property
    def changes(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind not in NON_MUTATING)

    @property
    def in_sync(self) -> bool:
        return not self.changes and not self.problems

    @property
    def refresh_steps(self) -> tuple[Step, ...]:
        """What the pull policies ask for at every apply (with ``pull_always``): the pulls of
        ``always`` and of due ``daily``/``weekly``/``every_`` services, the builds of
        ``build`` ones. The reconciler carries them out first, then plans again."""
        return tuple(
            s
            for s in self.steps
            if s.kind in (StepKind.PULL, StepKind.BUILD) and s.reason.startswith(REFRESH + " ")
        )


def explain(steps: Iterable[Step]) -> list[dict[str, Any]]:
    """Steps as plain data, for JSON output and logs."""
    return [s.to_dict() for s in steps]
