"""How one replica of a canonical ``Service`` becomes the engine's container configuration.

Pure translation (no engine calls): ``container_spec`` returns the keyword arguments of
docker-py's ``create_container`` and ``create_host_config``, and the network endpoints. Names,
labels and aliases follow Compose v2, so ``docker compose -p NAME ps`` shows our containers.

Secrets and configs become read-only bind mounts of content-addressed files under
``files_dir`` (``<files_dir>/<sha256>``), written by the engine before the container is
created; the file's content hash is in the service's config hash, so a changed secret means a
new container, never a file changed under a running one. SOPS-encrypted ones are not mounted:
the engine copies their plaintext into the created container
(``controller.backends.shared.decrypt``),
and the environment's placeholders are replaced there too; this translation stays plaintext-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker.types import LogConfig, Mount, Ulimit

from controller.backends.docker.problems import encrypted
from controller.desired import DesiredStack, Service, host_path
from controller.desired import Mount as VolumeMount
from controller.desired.compose import FileRef
from controller.models.errors import PermanentError
from controller.models.observed import (
    COMPOSE_VERSION,
    COMPOSE_VERSION_LABEL,
    CONFIG_FILES_LABEL,
    CONFIG_HASH_LABEL,
    DEPENDS_ON_LABEL,
    IMAGE_LABEL,
    MANAGED_LABEL,
    NUMBER_LABEL,
    ONEOFF_LABEL,
    OWN_HASH_LABEL,
    PROJECT_LABEL,
    SERVICE_LABEL,
    VERSION_LABEL,
    WORKING_DIR_LABEL,
)

NANOSECONDS = 1_000_000_000


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    create: dict[str, Any]  # create_container(**create, host_config=..., networking_config=...)
    host: dict[str, Any]  # create_host_config(**host)
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)  # network -> endpoint


def container_spec(
    *,
    desired: DesiredStack,
    service_name: str,
    number: int,
    name: str,
    image: str,
    root: Path,
    files_dir: Path,
    version: str | None,
    image_id: str | None = None,
    copy_files: bool = False,
) -> ContainerSpec:
    """``copy_files``: every secret and config is copied into the container (a remote engine,
    whose disk is not the controller's), none bind-mounted from ``files_dir``."""
    service = desired.compose.services[service_name]
    labels = {
        **_labels(desired, service_name, number=number, version=version),
        **compose_project_labels(desired, root=root),
        IMAGE_LABEL: image_id or "",
    }
    create = _create_args(service, name=name, image=image, labels=labels)
    host = _host_args(desired, service, root=root, files_dir=files_dir, copy_files=copy_files)
    network_mode, endpoints = _networking(desired, service_name, name=name)
    if network_mode is not None:
        host["network_mode"] = network_mode
    return ContainerSpec(name=name, create=create, host=host, endpoints=endpoints)


def _labels(
    desired: DesiredStack, service_name: str, *, number: int, version: str | None
) -> dict[str, str]:
    """The service's own labels, then Compose's and ours (they win over the service's)."""
    labels = {
        **desired.compose.services[service_name].labels,
        PROJECT_LABEL: desired.name,
        SERVICE_LABEL: service_name,
        NUMBER_LABEL: str(number),
        ONEOFF_LABEL: "False",
        # Compose v2's own hash where it can be known: `docker compose up` then finds the
        # container current (stackctl's in OWN_HASH_LABEL; the planner compares that one).
        CONFIG_HASH_LABEL: desired.compose_hashes.get(
            service_name, desired.service_hashes[service_name]
        ),
        OWN_HASH_LABEL: desired.service_hashes[service_name],
        COMPOSE_VERSION_LABEL: COMPOSE_VERSION,
        DEPENDS_ON_LABEL: ",".join(
            f"{dep}:{rule.condition}:{str(rule.restart).lower()}"
            for dep, rule in sorted(desired.compose.services[service_name].depends_on.items())
        ),
        MANAGED_LABEL: "true",
    }
    if version:
        labels[VERSION_LABEL] = version
    return labels


COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def compose_project_labels(desired: DesiredStack, *, root: Path) -> dict[str, str]:
    """Compose's project labels. ``root`` is the folder the stack's relative paths start from
    (a project folder, or its manifest's folder): the working dir, as Compose has it. The config
    file is the compose file there, else the stack's manifest (an inline compose document)."""
    files = [root / f for f in COMPOSE_FILES if (root / f).is_file()][:1]
    if not files and desired.source and (root / Path(desired.source).name).is_file():
        files = [root / Path(desired.source).name]
    return {
        WORKING_DIR_LABEL: str(root.absolute()),
        CONFIG_FILES_LABEL: ",".join(str(f.absolute()) for f in files),
    }


def _create_args(
    service: Service, *, name: str, image: str, labels: dict[str, str]
) -> dict[str, Any]:
    """The keyword arguments of ``create_container``: the process and its image."""
    return {
        "image": image,
        "name": name,
        "command": service.command,
        "entrypoint": service.entrypoint,
        "environment": dict(service.environment),
        "labels": labels,
        "hostname": service.hostname,
        "user": service.user,
        "working_dir": service.working_dir,
        "tty": service.tty,
        "stdin_open": service.stdin_open,
        "stop_signal": service.stop_signal,
        "stop_timeout": _seconds(service.stop_grace_period),
        "healthcheck": _healthcheck(service),
        "ports": _exposed(service),
        "platform": service.platform,
        "domainname": service.domainname,
    }


def _host_args(
    desired: DesiredStack, service: Service, *, root: Path, files_dir: Path, copy_files: bool
) -> dict[str, Any]:
    """The keyword arguments of ``create_host_config``, but the network mode (``_networking``).
    Empty lists and false flags become ``None``: the engine's defaults, as Compose leaves them."""
    return {
        "port_bindings": _port_bindings(service),
        "mounts": _mounts(desired, service, root=root, files_dir=files_dir, copy_files=copy_files),
        "restart_policy": _restart_policy(service.restart),
        "cap_add": service.cap_add or None,
        "cap_drop": service.cap_drop or None,
        "privileged": service.privileged,
        "read_only": service.read_only or None,
        "init": service.init or None,
        "tmpfs": {path: "" for path in service.tmpfs} or None,
        "extra_hosts": _extra_hosts(service),
        "dns": service.dns or None,
        "log_config": _log_config(service),
        "ulimits": _ulimits(service),
        "mem_limit": service.limits.memory,
        "nano_cpus": _nano_cpus(service),
        "pids_limit": service.limits.pids,
        "sysctls": dict(service.sysctls) or None,
        "shm_size": service.shm_size,
        "security_opt": service.security_opt or None,
        "dns_search": service.dns_search or None,
        "dns_opt": service.dns_opt or None,
        "group_add": service.group_add or None,
        "ipc_mode": service.ipc,
        "pid_mode": service.pid,
        "oom_score_adj": service.oom_score_adj,
        "cpu_shares": service.cpu_shares,
        "mem_reservation": service.mem_reservation,
        "runtime": service.runtime,  # None: the engine's default runtime
    }


def _networking(
    desired: DesiredStack, service_name: str, *, name: str
) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """The network mode (``None``: the engine's default) and the endpoint of each network,
    highest ``priority`` first: the container is created on the first, then connected."""
    service = desired.compose.services[service_name]
    if service.network_mode is not None:
        return _network_mode(desired.name, service.network_mode), {}
    endpoints: dict[str, dict[str, Any]] = {}
    ordered = sorted(service.networks.items(), key=lambda kv: (-kv[1].priority, kv[0]))
    for key, attachment in ordered:
        network = desired.compose.networks[key].name
        endpoints[network] = {
            "aliases": sorted({service_name, name, *attachment.aliases}),
            "ipv4_address": attachment.ipv4_address,
            "ipv6_address": attachment.ipv6_address,
        }
    return (next(iter(endpoints)) if ordered else None), endpoints


def _seconds(nanoseconds: int | None) -> int | None:
    return None if nanoseconds is None else math.ceil(nanoseconds / NANOSECONDS)


def _healthcheck(service: Service) -> dict[str, Any] | None:
    check = service.healthcheck
    if check is None:
        return None
    if check.disable:
        return {"test": ["NONE"]}
    out = {
        "test": check.test,
        "interval": check.interval,
        "timeout": check.timeout,
        "retries": check.retries,
        "start_period": check.start_period,
        "start_interval": check.start_interval,
    }
    return {key: value for key, value in out.items() if value is not None}


def _exposed(service: Service) -> list[Any] | None:
    ports: list[Any] = [(p.target, p.protocol) for p in service.ports]
    for item in service.expose:
        number, _, protocol = item.partition("/")
        if "-" in number:
            low, high = map(int, number.split("-"))
            ports += [(n, protocol or "tcp") for n in range(low, high + 1)]
        else:
            ports.append((int(number), protocol or "tcp"))
    return sorted(set(ports)) or None


def _port_bindings(service: Service) -> dict[str, list[Any]] | None:
    bindings: dict[str, list[Any]] = {}
    for port in service.ports:
        host_port = port.published or None
        binding = (port.host_ip, host_port) if port.host_ip else host_port
        bindings.setdefault(f"{port.target}/{port.protocol}", []).append(binding)
    return bindings or None


def _extra_hosts(service: Service) -> list[str] | None:
    return [f"{h}:{ip}" for h, ips in sorted(service.extra_hosts.items()) for ip in ips] or None


def _ulimits(service: Service) -> list[Ulimit] | None:
    ulimits = sorted(service.ulimits.items())
    return [Ulimit(name=n, soft=u.soft, hard=u.hard) for n, u in ulimits] or None


def _nano_cpus(service: Service) -> int | None:
    return math.floor(service.limits.cpus * NANOSECONDS) if service.limits.cpus else None


def _mounts(
    desired: DesiredStack, service: Service, *, root: Path, files_dir: Path, copy_files: bool
) -> list[Mount] | None:
    mounts = [
        _volume_mount(desired, volume, root=root, local=not copy_files)
        for volume in service.volumes
    ]
    if not copy_files:
        mounts += [
            _file_mount(ref, files_dir=files_dir)
            for ref in [*service.secrets, *service.configs]
            if not encrypted(desired, ref, secret=ref in service.secrets)
        ]
    return mounts or None


def _volume_mount(
    desired: DesiredStack, volume: VolumeMount, *, root: Path, local: bool = True
) -> Mount:
    """One entry of ``volumes``: a bind (its host folder created when asked, on this machine:
    a remote engine's folders are its own), a named volume of this stack, or a tmpfs."""
    if volume.type == "bind":
        bind = volume.bind
        source = host_path(root, volume)
        if local and bind is not None and bind.create_host_path:
            source.mkdir(parents=True, exist_ok=True)
        return Mount(
            target=volume.target,
            source=str(source),
            type="bind",
            read_only=volume.read_only,
            propagation=bind.propagation if bind else None,
        )
    if volume.type == "volume":
        source = desired.compose.volumes[volume.source].name if volume.source else None
        options = volume.volume
        return Mount(
            target=volume.target,
            source=source,
            type="volume",
            read_only=volume.read_only,
            no_copy=bool(options and options.nocopy),
            subpath=options.subpath if options else None,
        )
    tmpfs = volume.tmpfs
    return Mount(
        target=volume.target,
        source=None,
        type="tmpfs",
        tmpfs_size=tmpfs.size if tmpfs else None,
        tmpfs_mode=tmpfs.mode if tmpfs else None,
    )


def _file_mount(ref: FileRef, *, files_dir: Path) -> Mount:
    """A secret or config: its content-addressed file, read-only (see the module)."""
    if ref.sha256 is None:
        raise PermanentError(
            f"{ref.source}: external secrets and configs need Swarm; give it a file"
        )
    return Mount(
        target=ref.target,
        source=str((files_dir / ref.sha256).absolute()),
        type="bind",
        read_only=True,
    )


def _restart_policy(restart: str) -> dict[str, Any] | None:
    name, _, retries = restart.partition(":")
    if name == "no":
        return None
    policy: dict[str, Any] = {"Name": name}
    if retries:
        policy["MaximumRetryCount"] = int(retries)
    return policy


def _log_config(service: Service) -> LogConfig | None:
    if service.logging is None or service.logging.driver is None:
        return None
    return LogConfig(type=service.logging.driver, config=dict(service.logging.options))


def _network_mode(stack: str, mode: str) -> str:
    """``service:db`` means the first replica of this stack's ``db``, as in Compose."""
    if mode.startswith("service:"):
        return f"container:{stack}-{mode.removeprefix('service:')}-1"
    return mode
