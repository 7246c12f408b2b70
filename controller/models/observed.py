"""What the engine has for one stack, as plain values: the planner's view of the world.

The runtime adapter builds a ``Snapshot`` from the engine (only objects labelled as the stack's);
the planner compares it with the desired stack. Names and labels follow Compose v2 so that
``docker compose -p NAME ps`` keeps working: containers ``NAME-SERVICE-N``, networks and volumes
``NAME_KEY``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"
CONFIG_HASH_LABEL = "com.docker.compose.config-hash"
NETWORK_LABEL = "com.docker.compose.network"
VOLUME_LABEL = "com.docker.compose.volume"
COMPOSE_VERSION_LABEL = "com.docker.compose.version"
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"
CONFIG_FILES_LABEL = "com.docker.compose.project.config_files"
DEPENDS_ON_LABEL = "com.docker.compose.depends_on"
IMAGE_LABEL = "com.docker.compose.image"
# The Compose release whose labels we write: Compose v1 parses this label on every container
# of a project (and crashes without it), v2 only shows it.
COMPOSE_VERSION = "2.24.0"
MANAGED_LABEL = "io.stackctl.managed"
VERSION_LABEL = "io.stackctl.version"
# stackctl's own hash of the canonical service (``DesiredStack.service_hashes``), beside
# Compose's (``CONFIG_HASH_LABEL``, which holds Compose v2's hash: ``DesiredStack.compose_hashes``).
# Containers made before it existed carry stackctl's hash in ``CONFIG_HASH_LABEL`` instead.
OWN_HASH_LABEL = "io.stackctl.config-hash"
ADOPT_REASON = "adopt: created by docker compose"


def container_name(stack: str, service: str, *, number: int) -> str:
    return f"{stack}-{service}-{number}"


def object_name(stack: str, key: str) -> str:
    """Compose's name for a stack's network or volume ``key`` (``shop_default``)."""
    return f"{stack}_{key}"


@dataclass(frozen=True)
class ContainerConfig:
    """What an inspected container was created with (the engine's ``Config``), as far as it
    can be compared with a service: the image reference, the process, its environment (the
    image's included) and labels (the image's and Compose's included)."""

    image: str = ""
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    user: str = ""
    working_dir: str = ""


@dataclass(frozen=True)
class ObservedContainer:
    id: str
    name: str
    service: str
    number: int
    config_hash: str
    image_id: str
    state: str  # created | running | paused | restarting | exited | dead
    health: str | None = None  # starting | healthy | unhealthy | None (no healthcheck)
    exit_code: int | None = None
    networks: frozenset[str] = frozenset()
    version: str | None = None
    # False: ``docker compose`` (v2) made it in one of the stack's slots (no ``io.stackctl``
    # label); it is then the slot's container until the planner says otherwise.
    managed: bool = True
    own_hash: str = ""  # OWN_HASH_LABEL; "" on containers made before it or by Compose
    # Only from an inspection (the list entry has no Config): what names the fields a container
    # `docker compose` made differs in.
    config: ContainerConfig | None = field(default=None, compare=False)

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting", "paused")


@dataclass(frozen=True)
class ObservedNetwork:
    id: str
    name: str
    key: str


@dataclass(frozen=True)
class ObservedVolume:
    name: str
    key: str


@dataclass(frozen=True)
class Snapshot:
    """Everything of one stack on the engine, plus what each image reference resolves to now
    (``None``: the image is not present)."""

    stack: str
    containers: tuple[ObservedContainer, ...] = ()
    networks: tuple[ObservedNetwork, ...] = ()
    volumes: tuple[ObservedVolume, ...] = ()
    images: dict[str, str | None] = field(default_factory=dict)
    # When a tag last named each image (only from ``Engine.observe``; the fleet view has none):
    # what the periodic pull policies (``daily``, ``weekly``, ``every_<duration>``) compare.
    image_tagged: dict[str, datetime | None] = field(default_factory=dict, compare=False)
    # Objects of the same Compose project *without* our label (made by `docker compose`):
    # containers by project label or by a v1/v2 name, networks and volumes by label or name.
    foreign_containers: tuple[ObservedContainer, ...] = ()
    foreign_networks: tuple[ObservedNetwork, ...] = ()
    foreign_volumes: tuple[ObservedVolume, ...] = ()
    # Every container that carries the stack's Compose project label without ours, `docker
    # compose run` one-offs included (only from ``Engine.observe``; the fleet view has none):
    # what a delete removes with the stack. One placed only by its name is not among them.
    project_containers: tuple[ObservedContainer, ...] = field(default=(), compare=False)

    @property
    def compose_made(self) -> tuple[ObservedContainer, ...]:
        """The containers in the stack's slots that ``docker compose`` made, not stackctl."""
        return tuple(c for c in self.containers if not c.managed)

    @property
    def foreign(self) -> bool:
        return bool(
            self.foreign_containers
            or self.compose_made
            or self.foreign_networks
            or self.foreign_volumes
        )

    @property
    def owned(self) -> bool:
        """Whether stackctl already holds some of the stack: then Compose's objects in it were
        put there by someone running ``docker compose`` on a stackctl stack."""
        return bool(any(c.managed for c in self.containers) or self.networks or self.volumes)

    def foreign_names(self) -> str:
        """``containers a, b; networks n; volumes v``: what a refusal names."""
        parts = [
            f"{kind} {', '.join(sorted(o.name for o in objects))}"
            for kind, objects in (
                ("containers", (*self.compose_made, *self.foreign_containers)),
                ("networks", self.foreign_networks),
                ("volumes", self.foreign_volumes),
            )
            if objects
        ]
        return "; ".join(parts)

    def containers_of(self, service: str) -> list[ObservedContainer]:
        return sorted((c for c in self.containers if c.service == service), key=lambda c: c.number)
