"""``MemoryEngine``: a container engine in pure Python, for fast tests without Docker.

It keeps networks, volumes, images and containers in dicts and answers the container calls of
``docker.contract.EngineBackend`` as a Docker engine would (labels, names, counted calls, the
same errors), so the ``Backend`` calls of ``docker.backend.ContainerBackend`` (the Docker
planner, executor and health assessment) converge stacks on it exactly as on a real engine.
Nothing runs: a started container is ``running`` (``healthy`` when its service has a
healthcheck) until a test says otherwise (``set_state``), or removes it by hand (``kill``).

An image is present once pulled or built (``pull`` gives a reference the id ``registry`` says,
else one made from the reference); a test moves a tag with ``registry[ref] = ...`` then pull.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from controller.backends.docker.backend import ContainerBackend
from controller.backends.docker.containers import ContainerSummary
from controller.backends.memory.fleet import Listed, MemoryFleet
from controller.backends.shared.calls import EngineCalls
from controller.desired import DesiredStack
from controller.desired.engine_spec import LOCAL, EngineSpec
from controller.models.errors import NameInUseError, NotFoundError, PermanentError
from controller.models.observed import ObservedContainer, ObservedNetwork, ObservedVolume, Snapshot


@dataclass
class FakeContainer:
    """One container: what ``observe`` reports of it, and whose it is."""

    stack: str
    observed: ObservedContainer
    image: str  # the reference it was created from
    ports: tuple[str, ...] = ()
    healthcheck: bool = False  # its service has one: it reports healthy once started


@dataclass
class FakeObject:
    """A network or a volume: its stack and its key in the stack's compose."""

    id: str
    name: str
    stack: str
    key: str


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class MemoryState:
    """Everything the engine holds; shared by the engine's threads (the executor's workers)."""

    containers: dict[str, FakeContainer] = field(default_factory=dict)  # by id
    networks: dict[str, FakeObject] = field(default_factory=dict)  # by name
    volumes: dict[str, FakeObject] = field(default_factory=dict)  # by name
    images: dict[str, str] = field(default_factory=dict)  # reference -> id
    tagged: dict[str, datetime] = field(default_factory=dict)  # reference -> last tagged
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)


class MemoryEngine(ContainerBackend):
    """A fake Docker engine (``Engines(local=MemoryEngine())`` in a test harness)."""

    def __init__(self, *, spec: EngineSpec | None = None, timeout: int = 120) -> None:
        self.spec = spec or EngineSpec(name=LOCAL)
        self.calls = EngineCalls()
        self.state = MemoryState()
        self.registry: dict[str, str] = {}  # reference -> the id a pull gets (tests move tags)
        self.down = False  # a test's unreachable engine: every call raises
        self._ids = itertools.count(1)

    @property
    def name(self) -> str:
        return self.spec.name

    def _call(self, operation: str) -> None:
        """Count the call (as ``EngineConnection._call`` does) and fail when ``down``."""
        from controller.models.errors import TransientError

        self.calls.add(operation)
        if self.down:
            raise TransientError(f"engine {self.name} is not reachable (memory engine down)")

    def ping(self) -> None:
        self._call("ping")

    # -- observing ---------------------------------------------------------------------------

    def observe(
        self,
        stack: str,
        *,
        images: list[str] = (),  # type: ignore[assignment]
        names: list[str] = (),  # type: ignore[assignment]
        by_name: bool = True,
        reuse: Snapshot | None = None,
    ) -> Snapshot:
        """As ``Engine.observe``, with the same calls counted: the stack's containers (and a
        list by name unless ``by_name`` is false); unless ``reuse`` gives them, its networks
        and volumes (and each of ``names`` looked up in both) and each image inspected."""
        self._call("list_containers")
        if by_name:
            self._call("list_containers")
        if reuse is None:
            for operation in ("list_networks", "list_volumes"):
                for _ in range(1 + len(names)):
                    self._call(operation)
            for _ in images:
                self._call("inspect_image")
        with self.state.lock:
            found = self._snapshot(stack, images=list(images))
        if reuse is None:
            return found
        return replace(reuse, containers=found.containers)

    def _snapshot(self, stack: str, *, images: list[str], listed: Listed | None = None) -> Snapshot:
        """What ``observe`` returns; from ``listed`` (a fleet's lists, by stack) when given,
        else from the engine's whole state."""
        state = self.state
        if listed is None:
            listed = Listed.of(state, stack)
        ours = [c.observed for c in listed.containers.get(stack, ())]
        networks = listed.networks.get(stack, [])
        volumes = listed.volumes.get(stack, [])
        return Snapshot(
            stack=stack,
            containers=tuple(sorted(ours, key=lambda c: (c.service, c.number))),
            networks=tuple(ObservedNetwork(n.id, n.name, n.key) for n in networks),
            volumes=tuple(ObservedVolume(v.name, v.key) for v in volumes),
            images={ref: state.images.get(ref) for ref in images},
            image_tagged={ref: state.tagged.get(ref) for ref in images},
        )

    def observe_fleet(self) -> MemoryFleet:
        self._call("list_containers")
        self._call("list_networks")
        self._call("list_volumes")
        return MemoryFleet(self)

    def image_id(self, ref: str) -> str | None:
        self._call("inspect_image")
        return self.state.images.get(ref)

    def container_state(self, name_or_id: str) -> ObservedContainer | None:
        self._call("inspect_container")
        found = self._find(name_or_id)
        return found.observed if found is not None else None

    def owner(self, container: str) -> str | None:
        self._call("inspect_container")
        found = self._find(container)
        return found.stack if found is not None else None

    def _find(self, name_or_id: str) -> FakeContainer | None:
        with self.state.lock:
            for cid, c in self.state.containers.items():
                if name_or_id in (cid, c.observed.name):
                    return c
        return None

    def _require(self, name_or_id: str) -> FakeContainer:
        found = self._find(name_or_id)
        if found is None:
            raise NotFoundError(f"No such container: {name_or_id}")
        return found

    # -- networks, volumes, images -----------------------------------------------------------

    def create_network(self, desired: DesiredStack, key: str) -> None:
        self._call("list_networks")  # as Engine: looked up by name first
        self._call("create_network")
        name = desired.compose.networks[key].name
        with self.state.lock:
            if name not in self.state.networks:  # as Engine: the one there is used
                oid = _digest(f"network {name} {next(self._ids)}")
                self.state.networks[name] = FakeObject(oid, name, desired.name, key)

    def remove_network(self, name: str) -> None:
        self._call("remove_network")
        with self.state.lock:
            if any(name in c.observed.networks for c in self.state.containers.values()):
                raise PermanentError(f"removing network {name}: network has active endpoints")
            if self.state.networks.pop(name, None) is None:
                raise NotFoundError(f"removing network {name}: network {name} not found")

    def create_volume(self, desired: DesiredStack, key: str) -> None:
        self._call("create_volume")
        name = desired.compose.volumes[key].name
        with self.state.lock:
            self.state.volumes.setdefault(name, FakeObject(name, name, desired.name, key))

    def remove_volume(self, name: str) -> None:
        self._call("remove_volume")
        with self.state.lock:
            if self.state.volumes.pop(name, None) is None:
                raise NotFoundError(f"removing volume {name}: no such volume")

    def pull(self, ref: str) -> None:
        self._call("pull")
        self._tag(ref, self.registry.get(ref) or _digest(f"image {ref}"))

    def build(self, desired: DesiredStack, service_name: str, *, ref: str, root: Path) -> None:
        self._call("build")
        if desired.compose.services[service_name].build is None:
            raise PermanentError(f"service {service_name} has no build section")
        self._tag(ref, _digest(f"built {ref} {next(self._ids)}"))

    def _tag(self, ref: str, image_id: str) -> None:
        with self.state.lock:
            if self.state.images.get(ref) != image_id:
                self.state.tagged[ref] = datetime.now(UTC)
            self.state.images[ref] = image_id

    # -- containers --------------------------------------------------------------------------

    def create_container(
        self,
        desired: DesiredStack,
        *,
        service: str,
        number: int,
        name: str,
        image: str,
        root: Path,
        files_dir: Path,
        version: str | None,
        image_id: str | None = None,
    ) -> str:
        """Create (not start) one replica; returns its id. Without ``image_id`` (what ``image``
        resolved to moments ago) the image is inspected first, as ``Engine`` does."""
        if image_id is None:
            self._call("inspect_image")
        self._call("create_container")
        spec = desired.compose.services[service]
        with self.state.lock:
            image_id = self.state.images.get(image)
            if image_id is None:
                raise NotFoundError(f"creating container {name}: No such image: {image}")
            taken = self._find(name)
            if taken is not None:
                raise NameInUseError(
                    f"creating container {name}: the name is in use", name=name, holder=_id(taken)
                )
            cid = _digest(f"container {name} {next(self._ids)}")[7:]
            networks = frozenset(desired.compose.networks[k].name for k in spec.networks)
            observed = ObservedContainer(
                id=cid,
                name=name,
                service=service,
                number=number,
                config_hash=desired.compose_hashes.get(service, desired.service_hashes[service]),
                own_hash=desired.service_hashes[service],
                image_id=image_id,
                state="created",
                networks=networks,
                version=version,
            )
            ports = tuple(str(p) for p in getattr(spec, "ports", ()) or ())
            check = spec.healthcheck is not None and not spec.healthcheck.disable
            self.state.containers[cid] = FakeContainer(desired.name, observed, image, ports, check)
            return cid

    def start(self, container: str) -> None:
        self._call("start")
        found = self._require(container)
        self._set(found, state="running", health="healthy" if found.healthcheck else None)

    def stop(self, container: str, *, timeout: int | None = None) -> None:
        self._call("stop")
        self._set(self._require(container), state="exited", health=None, exit_code=0)

    def remove_container(self, container: str) -> None:
        self._call("remove_container")
        found = self._require(container)
        with self.state.lock:
            self.state.containers.pop(_id(found), None)

    def stop_and_remove(self, container: str) -> None:
        self.stop(container)
        self.remove_container(container)

    def rename(self, container: str, name: str) -> None:
        self._call("rename")
        found = self._require(container)
        if self._find(name) is not None:
            raise NameInUseError(f"renaming {container} to {name}", name=name, holder=name)
        found.observed = replace(found.observed, name=name)

    def wait_gone(self, container: str, *, timeout: float = 30.0) -> None:
        return None  # removal is immediate here

    def _set(self, container: FakeContainer, **changes: object) -> None:
        with self.state.lock:
            container.observed = replace(container.observed, **changes)  # type: ignore[arg-type]

    # -- what a test does by hand ------------------------------------------------------------

    def kill(self, name: str) -> None:
        """Remove a container behind stackctl's back (``docker rm -f``)."""
        with self.state.lock:
            found = self._require(name)
            self.state.containers.pop(_id(found), None)

    def kill_service(self, stack: str, service: str) -> None:
        """Remove every container of ``service`` by hand."""
        with self.state.lock:
            for c in [c for c in self.state.containers.values() if c.stack == stack]:
                if c.observed.service == service:
                    self.state.containers.pop(_id(c), None)

    def set_state(self, name: str, **changes: object) -> None:
        """Change what a container reports (``state="exited", exit_code=1``, ``health=...``)."""
        self._set(self._require(name), **changes)

    def running(self, stack: str) -> dict[str, str]:
        """The stack's containers by name -> state, as a test reads them."""
        with self.state.lock:
            found = [c.observed for c in self.state.containers.values() if c.stack == stack]
        return {c.name: c.state for c in found}

    # -- what people look at -----------------------------------------------------------------

    def containers(self, stack: str | None) -> list[ContainerSummary]:
        self._call("list_containers")
        with self.state.lock:
            found = [c for c in self.state.containers.values() if stack in (None, c.stack)]
        return sorted((_summary(c) for c in found), key=lambda c: (c.stack, c.service, c.number))

    def read_logs(
        self,
        source: str,
        *,
        follow: bool = False,
        tail: int | None = None,
        since: datetime | None = None,
    ) -> Iterator[str]:
        self._call("logs")
        self._require(source)
        return iter(())  # nothing runs, nothing is said


def _id(container: FakeContainer) -> str:
    return container.observed.id


def _summary(c: FakeContainer) -> ContainerSummary:
    o = c.observed
    return ContainerSummary(
        id=o.id,
        name=o.name,
        stack=c.stack,
        service=o.service,
        number=o.number,
        state=o.state,
        status=o.state,
        health=o.health,
        ports=c.ports,
        version=o.version,
        image=c.image,
    )
