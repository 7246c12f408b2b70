"""``Engine``: observe a stack on the Docker engine and carry out planner steps.

Only objects labelled ``io.stackctl.managed=true`` *and* with the stack's Compose project label
are ever seen or touched. Every call goes through ``_call``, which counts it (mutating calls
apart) and translates docker-py's errors.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import docker
import requests

from controller.desired import DesiredStack, context_path
from controller.desired.engines import LOCAL, EngineSpec
from controller.errors import NotFoundError, PermanentError, StackctlError, TransientError
from controller.models.observed import (
    COMPOSE_VERSION,
    COMPOSE_VERSION_LABEL,
    MANAGED_LABEL,
    NETWORK_LABEL,
    ONEOFF_LABEL,
    PROJECT_LABEL,
    VOLUME_LABEL,
    ObservedContainer,
    Snapshot,
)
from controller.runtime.circuit import Circuit
from controller.runtime.connection import LazyClient
from controller.runtime.container_spec import container_spec
from controller.runtime.errors import translate
from controller.runtime.fleet import Fleet
from controller.runtime.sealed import Unsealed, sealed_refs, unseal
from controller.runtime.snapshot import (
    compose_slot,
    container_of,
    container_of_summary,
    last_tag_time,
    network_of,
    unique,
    volume_of,
)

T = TypeVar("T")

MUTATING = frozenset(
    {
        "create_network",
        "create_volume",
        "pull",
        "build",
        "create_container",
        "put_archive",
        "start",
        "stop",
        "remove_container",
        "rename",
        "remove_network",
        "remove_volume",
        "connect_network",
    }
)


@dataclass
class EngineCalls:
    """Counts of engine calls by operation; ``mutating`` sums the ones that change something."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, operation: str) -> None:
        with self.lock:
            self.counts[operation] += 1

    @property
    def mutating(self) -> int:
        return sum(n for op, n in self.counts.items() if op in MUTATING)

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()


class Engine:
    """``Engine()`` connects like the docker CLI does (``DOCKER_HOST`` or the local socket);
    ``Engine(spec=...)`` to a named engine (``controller.desired.engines``)."""

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        *,
        timeout: int = 120,
        spec: EngineSpec | None = None,
    ) -> None:
        """Connects on first use, not here: a controller started while the engine is down
        keeps running, and its commands retry until the engine answers."""
        self.spec = spec or EngineSpec(name=LOCAL)
        self._client = LazyClient(client, timeout=timeout, spec=spec)
        self.calls = EngineCalls()
        # A remote engine found unreachable is not asked again for a while (runtime.circuit).
        self._circuit = Circuit(self.spec.name) if self.spec.remote else None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def _api(self) -> docker.APIClient:
        if self._circuit is None:
            return self._client.get().api
        self._circuit.check()
        try:
            return self._client.get().api
        except TransientError as e:  # could not connect
            self._circuit.trip(str(e))
            raise

    def _call(
        self, operation: str, doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        self.calls.add(operation)
        try:
            result = fn(*args, **kwargs)
        except Exception as e:
            error = translate(e, doing=doing)
            if self._circuit is not None and _unreachable(e):
                self._circuit.trip(str(error))
            raise error from e
        if self._circuit is not None:
            self._circuit.close()
        return result

    def ping(self) -> None:
        self._call("ping", "asking the engine", self._api.ping)

    # -- observing ---------------------------------------------------------------------------

    def observe(
        self,
        stack: str,
        *,
        images: list[str] = (),
        names: list[str] = (),
        by_name: bool = True,
    ) -> Snapshot:
        """Everything labelled as ``stack``'s, and the image id each reference resolves to; and,
        apart, the project's objects without our label (made by ``docker compose``): containers
        and volumes/networks by project label, containers by Compose v1/v2 name (unless
        ``by_name`` is false: a list of every container on the engine, which a health wait
        polling the stack it just converged can spare), and the networks and volumes named in
        ``names``."""
        project = {"label": [f"{PROJECT_LABEL}={stack}"]}
        doing = f"listing containers of {stack}"
        listed = self._call(
            "list_containers", doing, self._api.containers, all=True, filters=project
        )
        ours = [c for c in listed if (c.get("Labels") or {}).get(MANAGED_LABEL) == "true"]
        containers = self._inspect_all(ours)
        foreign = self._inspect_all(
            self._foreign_summaries(stack, labelled=listed, by_name=by_name)
        )
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
        found = {ref: self._image_facts(ref) for ref in images}
        return Snapshot(
            stack=stack,
            containers=tuple(sorted(containers, key=lambda c: (c.service, c.number))),
            networks=tuple(n for n, managed in all_networks if managed),
            volumes=tuple(v for v, managed in all_volumes if managed),
            images={ref: facts[0] for ref, facts in found.items()},
            image_tagged={ref: facts[1] for ref, facts in found.items()},
            foreign_containers=tuple(sorted(foreign, key=lambda c: (c.service, c.number, c.name))),
            foreign_networks=tuple(n for n, managed in all_networks if not managed),
            foreign_volumes=tuple(v for v, managed in all_volumes if not managed),
        )

    def observe_fleet(self) -> Fleet:
        """The whole engine listed once (four calls and an inspection per container that is not
        running): every stack's ``Snapshot`` is then ``fleet.snapshot(stack, ...)``."""
        return Fleet(self._call, self._api)

    def _inspect_all(self, summaries: list[dict[str, Any]]) -> list[ObservedContainer]:
        """The observed containers: a running one from its list entry (it says all), any other,
        or one placed by its name, inspected."""
        containers = []
        for summary in summaries:
            known = None if "_stack" in summary else container_of_summary(summary)
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
        found = {}
        for c in labelled:
            labels = c.get("Labels") or {}
            # A `docker compose run` container is a person's one-off job, not a replica.
            if labels.get(MANAGED_LABEL) != "true" and labels.get(ONEOFF_LABEL) != "True":
                found[c["Id"]] = c
        for c in named:
            labels = c.get("Labels") or {}
            name = (c.get("Names") or [""])[0].lstrip("/")
            if PROJECT_LABEL not in labels and compose_slot(stack, name) is not None:
                found[c["Id"]] = {**c, "_stack": stack}
        return list(found.values())

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

    # -- acting ------------------------------------------------------------------------------

    def create_network(self, desired: DesiredStack, key: str) -> None:
        network = desired.compose.networks[key]
        ipam = None
        if network.ipam is not None:
            pools = [
                docker.types.IPAMPool(
                    subnet=p.subnet,
                    iprange=p.ip_range,
                    gateway=p.gateway,
                    aux_addresses=p.aux_addresses or None,
                )
                for p in network.ipam.config
            ]
            ipam = docker.types.IPAMConfig(
                driver=network.ipam.driver or "default",
                pool_configs=pools,
                options=network.ipam.options or None,
            )
        # The engine creates a second network under a name in use (then every use of the name
        # is "ambiguous"): look first, and use the one there (the planner has decided about it).
        if self._named("list_networks", self._api.networks, [network.name], stack=desired.name):
            return
        self._call(
            "create_network",
            f"creating network {network.name}",
            self._api.create_network,
            network.name,
            driver=network.driver,
            options=network.driver_opts or None,
            ipam=ipam,
            internal=network.internal,
            attachable=network.attachable or None,
            enable_ipv6=bool(network.enable_ipv6),
            labels={**network.labels, **_owner(desired.name), NETWORK_LABEL: key},
        )

    def create_volume(self, desired: DesiredStack, key: str) -> None:
        volume = desired.compose.volumes[key]
        self._call(
            "create_volume",
            f"creating volume {volume.name}",
            self._api.create_volume,
            volume.name,
            driver=volume.driver or "local",
            driver_opts=volume.driver_opts or None,
            labels={**volume.labels, **_owner(desired.name), VOLUME_LABEL: key},
        )

    def pull(self, ref: str) -> None:
        repository, tag = _split_ref(ref)
        self._call("pull", f"pulling {ref}", self._api.pull, repository, tag=tag)

    def build(self, desired: DesiredStack, service_name: str, *, ref: str, root: Path) -> None:
        build = desired.compose.services[service_name].build
        if build is None:
            raise PermanentError(f"service {service_name} has no build section")
        context = context_path(root, build)
        doing = f"building {ref} for {service_name}"
        if isinstance(context, Path) and not context.is_dir():
            raise PermanentError(f"{doing}: the build context {context} is not a directory")
        with tempfile.TemporaryDirectory(prefix="stackctl-build-") as scratch:
            dockerfile = build.dockerfile
            if build.dockerfile_inline is not None:
                # docker-py sends a Dockerfile from outside the context along with it.
                dockerfile = os.path.join(scratch, "Dockerfile")
                Path(dockerfile).write_text(build.dockerfile_inline)
            stream = self._call(
                "build",
                doing,
                self._api.build,
                path=str(context),
                dockerfile=dockerfile,
                tag=ref,
                buildargs=build.args or None,
                target=build.target,
                rm=True,
                decode=True,
                pull=False,
            )
            for chunk in stream:
                if "error" in chunk:
                    raise PermanentError(f"{doing}: {chunk['error'].strip()}")

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
    ) -> str:
        """Create (not start) one replica; returns its id."""
        spec = container_spec(
            desired=desired,
            service_name=service,
            number=number,
            name=name,
            image=image,
            root=root,
            files_dir=files_dir,
            version=version,
            image_id=self.image_id(image),
            copy_files=self.spec.remote,
        )
        remote = self.spec.remote  # its disk is not ours: every file is copied in
        if not remote:
            self._write_files(desired, service, files_dir=files_dir)
        unsealed = unseal(desired, service, spec.create["environment"], copy_files=remote)
        host_config = self._api.create_host_config(**spec.host)
        # Engines before API 1.44 take one endpoint at create: the first (highest priority)
        # network there, the others connected before the container starts.
        endpoints = [
            (net, {k: v for k, v in ep.items() if v}) for net, ep in spec.endpoints.items()
        ]
        try:
            created = self._call(
                "create_container",
                f"creating container {name}",
                self._api.create_container,
                host_config=host_config,
                networking_config=self._networking_config(endpoints[:1]),
                **{**spec.create, "environment": unsealed.environment},
            )
        except StackctlError as e:
            raise unsealed.mask(e)  # noqa: B904  # the cause may quote a decrypted value
        try:
            self._put_unsealed(created["Id"], name=name, unsealed=unsealed)
        except BaseException:
            # Never leave a container that would start without its secrets.
            self.remove_container(created["Id"])
            raise
        self._connect_networks(created["Id"], name=name, endpoints=endpoints[1:])
        return str(created["Id"])

    def _put_unsealed(self, container: str, *, name: str, unsealed: Unsealed) -> None:
        """Copy the decrypted secret/config files into a created container (runtime.sealed)."""
        if unsealed.archive is None:
            return
        try:
            self._call(
                "put_archive",
                f"copying the secrets and configs into {name}",
                self._api.put_archive,
                container,
                "/",
                unsealed.archive,
            )
        except StackctlError as e:
            raise unsealed.mask(e)  # noqa: B904  # the cause may quote a decrypted value

    def _networking_config(self, endpoints: list[tuple[str, dict[str, Any]]]) -> Any:
        """The ``networking_config`` of a create: the endpoints given, or ``None``."""
        if not endpoints:
            return None
        return self._api.create_networking_config(
            {net: self._api.create_endpoint_config(**config) for net, config in endpoints}
        )

    def _connect_networks(
        self, container: str, *, name: str, endpoints: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """Connect a created container to more networks, in order."""
        for net, config in endpoints:
            self._call(
                "connect_network",
                f"connecting {name} to {net}",
                self._api.connect_container_to_network,
                container,
                net,
                **config,
            )

    def start(self, container: str) -> None:
        self._call("start", f"starting {container}", self._api.start, container)

    def stop(self, container: str, *, timeout: int | None = None) -> None:
        self._call("stop", f"stopping {container}", self._api.stop, container, timeout=timeout)

    def remove_container(self, container: str) -> None:
        self._call(
            "remove_container",
            f"removing {container}",
            self._api.remove_container,
            container,
            force=True,
        )

    def stop_and_remove(self, container: str) -> None:
        """Stop gracefully (the container's own stop signal and grace period), then remove."""
        self.stop(container)
        self.remove_container(container)

    def rename(self, container: str, name: str) -> None:
        self._call("rename", f"renaming {container} to {name}", self._api.rename, container, name)

    def remove_network(self, name: str) -> None:
        self._call("remove_network", f"removing network {name}", self._api.remove_network, name)

    def remove_volume(self, name: str) -> None:
        self._call("remove_volume", f"removing volume {name}", self._api.remove_volume, name)

    def _write_files(self, desired: DesiredStack, service: str, *, files_dir: Path) -> None:
        """Secrets and configs as read-only, content-addressed files (written once, atomically)."""
        spec = desired.compose.services[service]
        encrypted = {id(ref) for ref, _ in sealed_refs(desired, service)}
        for ref in [*spec.secrets, *spec.configs]:
            if ref.sha256 is None or id(ref) in encrypted:
                continue  # external; or SOPS-encrypted: copied into the container instead
            path = files_dir / ref.sha256
            if path.exists():
                continue
            content = desired.files.get(ref.sha256)
            if content is None:
                raise PermanentError(f"the content of {ref.source} ({ref.sha256[:12]}) is missing")
            files_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".tmp{os.getpid()}-{threading.get_ident()}")
            tmp.write_bytes(content)
            tmp.chmod(0o444)
            tmp.replace(path)

    def wait_gone(self, container: str, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.container_state(container) is not None and time.monotonic() < deadline:
            time.sleep(0.05)


def _unreachable(error: BaseException) -> bool:
    """No answer at all (no connection, a timeout), not an engine answering with an error."""
    return isinstance(error, requests.exceptions.ConnectionError | requests.exceptions.Timeout)


def _owner(stack: str) -> dict[str, str]:
    return {PROJECT_LABEL: stack, COMPOSE_VERSION_LABEL: COMPOSE_VERSION, MANAGED_LABEL: "true"}


def _split_ref(ref: str) -> tuple[str, str]:
    if "@" in ref:
        return ref, ""
    name, _, tag = ref.rpartition(":")
    if name and "/" not in tag:
        return name, tag
    return ref, "latest"
