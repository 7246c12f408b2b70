"""What a Swarm runs for one stack, as plain values: the Swarm planner's view of the world.

``controller.backends.swarm`` builds a ``SwarmSnapshot`` from the manager (only objects labelled
``com.docker.stack.namespace=STACK`` and ``io.stackctl.managed=true``); ``backends.swarm.planner``
compares it with the desired stack by spec hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STACK_LABEL = "com.docker.stack.namespace"  # docker stack deploy's: `docker stack ps` works
STACK_IMAGE_LABEL = "com.docker.stack.image"
SERVICE_LABEL = "io.stackctl.service"  # the compose key of a service
SPEC_HASH_LABEL = "io.stackctl.spec-hash"  # swarm.planner.service_spec.spec_hash of its spec
FILE_KEY_LABEL = "io.stackctl.file"  # a secret's or config's key in the compose file

# UpdateStatus.State values that end an update without the new spec running.
FAILED_UPDATE_STATES = frozenset(
    {"paused", "rollback_started", "rollback_paused", "rollback_completed"}
)
# Of those, the ones that leave the service half on the new spec: applying the same spec again
# must make Swarm redo the update. After a rollback the service runs its previous spec.
PAUSED_UPDATE_STATES = frozenset({"paused", "rollback_paused"})


def spec_view(spec: dict[str, Any]) -> dict[str, Any]:
    """The parts of a service spec people change by hand (``docker service scale``/``update
    --image``/``--env-add``...), in a form Swarm's normalised copy and the planner's spec agree
    on. Such an edit keeps the spec hash label, so the planner compares these too."""
    container = spec.get("TaskTemplate", {}).get("ContainerSpec", {})
    mode = spec.get("Mode", {})
    return {
        "image": str(container.get("Image", "")).partition("@sha256:")[0],
        "environment": sorted(container.get("Env") or []),
        "command": container.get("Command") or [],
        "args": container.get("Args") or [],
        "replicas": mode["Replicated"].get("Replicas", 1) if "Replicated" in mode else "global",
    }


@dataclass(frozen=True)
class ObservedTask:
    id: str
    slot: int | None  # replicated: 1..N; global: None
    node: str
    state: str  # new | pending | assigned | ... | running | complete | failed | rejected ...
    desired_state: str  # running | shutdown | ...
    message: str = ""
    error: str = ""
    container_id: str | None = None
    template: str = ""  # digest of the task template it was made from (``ObservedService``'s)


@dataclass(frozen=True)
class ObservedService:
    id: str
    name: str  # STACK_SERVICE
    service: str  # the compose key
    version: int  # Swarm's object version: an update must name it
    spec_hash: str | None
    image: str
    replicas: int | None  # None: global
    update_state: str | None = None  # UpdateStatus.State
    update_message: str = ""
    update_started: str = ""  # UpdateStatus.StartedAt: tells a new update from an old one
    force_update: int = 0  # TaskTemplate.ForceUpdate: raised to redo the same spec
    template: str = ""  # digest of the current task template (its tasks carry theirs)
    tasks: tuple[ObservedTask, ...] = ()
    view: dict[str, Any] = field(default_factory=dict)  # spec_view of its spec

    @property
    def running(self) -> int:
        """Tasks running the current task template."""
        return sum(
            1
            for t in self.tasks
            if t.desired_state == "running" and t.state == "running" and t.template == self.template
        )

    @property
    def outdated(self) -> int:
        """Tasks of an older template still meant to run (an update under way)."""
        return sum(
            1 for t in self.tasks if t.desired_state == "running" and t.template != self.template
        )

    @property
    def wanted(self) -> int:
        """Tasks Swarm means to run: the replica count, or (global) one per eligible node."""
        if self.replicas is not None:
            return self.replicas
        return sum(1 for t in self.tasks if t.desired_state == "running")

    @property
    def last_error(self) -> str:
        """The newest task's error (Swarm keeps a few old tasks per slot), if any."""
        for task in self.tasks:
            if task.error:
                return task.error
        return ""


@dataclass(frozen=True)
class ObservedObject:
    """A network, secret or config labelled as the stack's."""

    id: str
    name: str


@dataclass(frozen=True)
class SwarmSnapshot:
    stack: str
    services: tuple[ObservedService, ...] = ()
    networks: tuple[ObservedObject, ...] = ()
    secrets: tuple[ObservedObject, ...] = ()
    configs: tuple[ObservedObject, ...] = ()
    # Every network name the manager knows (external ones are checked against it).
    all_networks: frozenset[str] = field(default=frozenset())

    def service(self, key: str) -> ObservedService | None:
        return next((s for s in self.services if s.service == key), None)

    @property
    def empty(self) -> bool:
        return not (self.services or self.networks or self.secrets or self.configs)
