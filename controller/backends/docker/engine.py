"""``Engine``: observe a stack on the Docker engine (``observing.DockerObserving``) and carry
out planner steps: networks, volumes, images, containers.

Only objects labelled ``io.stackctl.managed=true`` *and* with the stack's Compose project label
are ever touched. Every call goes through ``_call``, which counts it (mutating calls apart)
and translates docker-py's errors.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from controller.backends.docker.backend import ContainerBackend
from controller.backends.docker.observing import MUTATING, DockerObserving, EngineCalls
from controller.backends.shared.decrypt import Unsealed, unseal
from controller.backends.shared.private_files import write_files
from controller.desired import DesiredStack, context_path
from controller.models.errors import NotFoundError, PermanentError, StackctlError
from controller.models.observed import (
    COMPOSE_VERSION,
    COMPOSE_VERSION_LABEL,
    MANAGED_LABEL,
    NETWORK_LABEL,
    PROJECT_LABEL,
    VOLUME_LABEL,
)

__all__ = ["MUTATING", "Engine", "EngineCalls"]


class Engine(DockerObserving, ContainerBackend):
    """``Engine()`` connects like the docker CLI does (``DOCKER_HOST`` or the local socket);
    ``Engine(spec=...)`` to a named engine (``controller.desired.engine_spec``)."""

    # -- acting ------------------------------------------------------------------------------

    def create_network(self, desired: DesiredStack, key: str) -> None:
        import docker  # here: an engine's reads go without docker-py (plain_reads)

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
        import tempfile  # here: only a build needs a scratch folder

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
                labels=build.labels or None,
                rm=True,
                decode=True,
                pull=False,
            )
            for chunk in stream:
                if "error" in chunk:
                    raise PermanentError(f"{doing}: {chunk['error'].strip()}")
        for tag in build.tags:  # `build.tags`: more names for the image, as Compose gives
            repository, version = _split_ref(tag)
            self._call("build", f"tagging {ref} as {tag}", self._api.tag, ref, repository, version)

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
        """Create (not start) one replica; returns its id. ``image_id``: what ``image``
        resolved to moments ago (``None``: the engine is asked)."""
        # Here: it loads docker-py's types, which observing an unchanged stack never needs.
        from controller.backends.docker.container_spec import container_spec

        spec = container_spec(
            desired=desired,
            service_name=service,
            number=number,
            name=name,
            image=image,
            root=root,
            files_dir=files_dir,
            version=version,
            image_id=image_id or self.image_id(image),
            copy_files=self.spec.remote,
        )
        remote = self.spec.remote  # its disk is not ours: every file is copied in
        if not remote:
            write_files(desired, service, files_dir=files_dir)
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
        """Remove the network; one that a container still holds is refused with that
        container's name (the engine's answer names only the network)."""
        doing = f"removing network {name}"
        try:
            self._call("remove_network", doing, self._api.remove_network, name)
        except PermanentError as e:
            if "active endpoints" not in str(e):
                raise
            holders = self._network_holders(name)
            if not holders:
                raise
            raise PermanentError(
                f"{doing}: it is still used by container {', '.join(holders)}, which is not of"
                " this stack's Compose project and is left alone: disconnect or remove it,"
                " then delete again"
            ) from e

    def _network_holders(self, name: str) -> list[str]:
        try:
            info = self._call(
                "inspect_network", f"inspecting network {name}", self._api.inspect_network, name
            )
        except NotFoundError:
            return []
        attached = (info.get("Containers") or {}).values()
        return sorted(c.get("Name") or "?" for c in attached)

    def remove_volume(self, name: str) -> None:
        self._call("remove_volume", f"removing volume {name}", self._api.remove_volume, name)

    def wait_gone(self, container: str, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.container_state(container) is not None and time.monotonic() < deadline:
            time.sleep(0.05)


def _owner(stack: str) -> dict[str, str]:
    return {PROJECT_LABEL: stack, COMPOSE_VERSION_LABEL: COMPOSE_VERSION, MANAGED_LABEL: "true"}


def _split_ref(ref: str) -> tuple[str, str]:
    if "@" in ref:
        return ref, ""
    name, _, tag = ref.rpartition(":")
    if name and "/" not in tag:
        return name, tag
    return ref, "latest"
