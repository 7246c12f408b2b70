"""The canonical Compose project: one long form for everything Compose lets people write.

Every short syntax is expanded and every default is explicit, so two files that mean the same
thing give equal models (and equal digests). Units: durations are **nanoseconds** (``int``),
sizes are **bytes** (``int``), CPUs a ``float``.

Host paths: a bind source, a build context, an env file or a secret/config file that lives in
the watched root is stored *relative to the stack's source folder* (``DesiredStack.base``: a
project folder, or the folder of a manifest file; posix, ``root_relative=True`` on mounts and
build contexts), never as an absolute path, so moving or re-pointing the root, or naming the
folder differently on the command line, does not change digests; ``host_path(base, mount)``
gives the absolute path back from the source folder's absolute path. Absolute bind sources
outside the root are kept as written, and a ``~/...`` bind source is kept as written and
expanded by ``host_path`` on the host that runs it (the loader never reads the environment).

File contents (env files, secrets, configs) appear as SHA-256 hex digests only; the bytes
travel beside the model (``DesiredStack.files``), never inside it. A SOPS-encrypted file is
its ciphertext's hash (``sops`` says so), and its env variables are placeholders
(``controller.sources.secrets.placeholders``): no plaintext of it is ever in the model.

These models validate data; they must never read files or the environment.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer


class Canonical(BaseModel):
    # Numbers become strings where a string is expected (``user: 1000``), as Compose does.
    model_config = ConfigDict(
        extra="forbid", frozen=True, coerce_numbers_to_str=True, allow_inf_nan=False
    )


def without_unset(
    model: BaseModel, data: dict[str, Any], *, names: frozenset[str]
) -> dict[str, Any]:
    """``data`` (the model's dump) without the fields of ``names`` that hold their default.

    For fields added after the first release: while unset they stay out of the canonical JSON,
    so the digests and config hashes of existing stacks do not move (no recreate on upgrade)."""
    for name in names:
        if name in data and getattr(model, name) == _default(type(model), name):
            del data[name]
    return data


@functools.cache
def _default(model: type[BaseModel], name: str) -> Any:
    """The field's default, made once: pydantic inspects the factory's signature at every
    ``get_default`` (0.4 ms a call, most of a digest). Only compared, never handed out."""
    return model.model_fields[name].get_default(call_default_factory=True)


class Build(Canonical):
    context: str  # root-relative when context_root_relative, else a remote (git/https) context
    context_root_relative: bool = True
    dockerfile: str = "Dockerfile"  # relative to the context, as in Compose
    dockerfile_inline: str | None = None  # the Dockerfile's text itself (then no file is read)
    args: dict[str, str] = Field(default_factory=dict)
    target: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)  # on the built image
    tags: list[str] = Field(default_factory=list)  # more names for the built image, in order

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return without_unset(self, handler(self), names=_BUILD_ADDITIONS)


_BUILD_ADDITIONS = frozenset({"dockerfile_inline", "labels", "tags"})


class Port(Canonical):
    target: int = Field(ge=1, le=65535)
    published: str | None = None  # "8080" or a range "8000-8010"; None: engine picks one
    host_ip: str | None = None  # None: every interface
    protocol: Literal["tcp", "udp", "sctp"] = "tcp"
    mode: Literal["ingress", "host"] = "ingress"
    name: str | None = None
    app_protocol: str | None = None


class BindOptions(Canonical):
    propagation: Literal["shared", "slave", "private", "rshared", "rslave", "rprivate"] | None = (
        None
    )
    create_host_path: bool = False
    selinux: Literal["z", "Z"] | None = None


class VolumeOptions(Canonical):
    nocopy: bool = False
    subpath: str | None = None


class TmpfsOptions(Canonical):
    size: int | None = Field(default=None, ge=0)  # bytes
    mode: int | None = None


class Mount(Canonical):
    """A service volume. ``source`` is the volume key for ``volume`` (None: anonymous), the host
    path for ``bind`` (root-relative when ``root_relative``), and None for ``tmpfs``."""

    type: Literal["bind", "volume", "tmpfs"]
    source: str | None = None
    root_relative: bool = False
    target: str
    read_only: bool = False
    bind: BindOptions | None = None
    volume: VolumeOptions | None = None
    tmpfs: TmpfsOptions | None = None


class EnvFile(Canonical):
    path: str  # root-relative
    required: bool = True
    format: Literal["raw"] | None = None
    sha256: str | None = None  # None: optional and absent
    # SOPS-encrypted: its values are placeholders in ``environment`` (controller.sources.secrets).
    sops: bool = False

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return without_unset(self, handler(self), names=frozenset({"sops"}))


class ServiceNetwork(Canonical):
    aliases: list[str] = Field(default_factory=list)  # sorted, unique
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    priority: int = 0


class Dependency(Canonical):
    condition: Literal["service_started", "service_healthy", "service_completed_successfully"] = (
        "service_started"
    )
    required: bool = True
    restart: bool = False


class Healthcheck(Canonical):
    """``disable=True`` is also what ``test: ["NONE"]`` means; the other fields are then None.
    A None field inherits the image's HEALTHCHECK setting."""

    test: list[str] | None = None  # ["CMD", ...] or ["CMD-SHELL", "..."]
    interval: int | None = Field(default=None, ge=0)  # ns
    timeout: int | None = Field(default=None, ge=0)  # ns
    retries: int | None = Field(default=None, ge=0)
    start_period: int | None = Field(default=None, ge=0)  # ns
    start_interval: int | None = Field(default=None, ge=0)  # ns
    disable: bool = False


class Logging(Canonical):
    driver: str | None = None
    options: dict[str, str] = Field(default_factory=dict)


class Ulimit(Canonical):
    soft: int
    hard: int


class Limits(Canonical):
    """``deploy.resources.limits`` merged with the service-level ``cpus``/``mem_limit``."""

    cpus: float | None = Field(default=None, ge=0)
    memory: int | None = Field(default=None, ge=0)  # bytes
    pids: int | None = None


class FileRef(Canonical):
    """A secret or config mounted into a service, with the content hash of what it mounts
    (None for external ones) so that the service's config hash follows the content."""

    source: str
    target: str  # absolute path in the container
    uid: str | None = None
    gid: str | None = None
    mode: int | None = None
    sha256: str | None = None


class UpdateConfig(Canonical):
    """``deploy.update_config`` / ``deploy.rollback_config`` (Swarm only); None: Swarm's default."""

    parallelism: int | None = Field(default=None, ge=0)
    delay: int | None = Field(default=None, ge=0)  # ns
    failure_action: Literal["continue", "rollback", "pause"] | None = None
    monitor: int | None = Field(default=None, ge=0)  # ns
    max_failure_ratio: float | None = Field(default=None, ge=0, le=1)
    order: Literal["stop-first", "start-first"] | None = None


class Placement(Canonical):
    constraints: list[str] = Field(default_factory=list)  # "node.role == manager", sorted
    preferences: list[str] = Field(default_factory=list)  # spread descriptors, in order
    max_replicas_per_node: int | None = Field(default=None, ge=0)


class SwarmDeploy(Canonical):
    """The parts of ``deploy`` only a Swarm carries out (``mode``, ``endpoint_mode``,
    ``placement``, ``update_config``, ``rollback_config``, ``labels``: the service's own
    labels). A service of a stack on a Docker engine with any of them set is refused by name
    (``backends.docker.problems.swarm_only_problems``)."""

    mode: Literal["replicated", "global"] = "replicated"
    endpoint_mode: Literal["vip", "dnsrr"] | None = None
    placement: Placement | None = None
    update_config: UpdateConfig | None = None
    rollback_config: UpdateConfig | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class Service(Canonical):
    image: str | None = None
    build: Build | None = None
    command: list[str] | None = None  # None: the image's CMD
    entrypoint: list[str] | None = None  # None: the image's ENTRYPOINT
    environment: dict[str, str] = Field(default_factory=dict)  # env_file values merged in
    env_file: list[EnvFile] = Field(default_factory=list)
    ports: list[Port] = Field(default_factory=list)
    expose: list[str] = Field(default_factory=list)  # "80/tcp", "8000-8010/udp"
    volumes: list[Mount] = Field(default_factory=list)  # sorted by target
    tmpfs: list[str] = Field(default_factory=list)
    networks: dict[str, ServiceNetwork] = Field(default_factory=dict)
    network_mode: str | None = None
    depends_on: dict[str, Dependency] = Field(default_factory=dict)
    healthcheck: Healthcheck | None = None
    restart: str = "no"
    labels: dict[str, str] = Field(default_factory=dict)
    replicas: int = Field(default=1, ge=0)  # deploy.replicas or scale
    limits: Limits = Field(default_factory=Limits)
    container_name: str | None = None
    hostname: str | None = None
    user: str | None = None
    working_dir: str | None = None
    cap_add: list[str] = Field(default_factory=list)
    cap_drop: list[str] = Field(default_factory=list)
    privileged: bool = False
    read_only: bool = False
    init: bool = False
    tty: bool = False
    stdin_open: bool = False
    extra_hosts: dict[str, list[str]] = Field(default_factory=dict)
    dns: list[str] = Field(default_factory=list)
    logging: Logging | None = None
    stop_signal: str | None = None
    stop_grace_period: int | None = Field(default=None, ge=0)  # ns
    ulimits: dict[str, Ulimit] = Field(default_factory=dict)
    # always | never | missing | build | daily | weekly | every_<duration> (checked by the loader)
    pull_policy: str = Field(
        default="missing", pattern=r"^(always|never|missing|build|daily|weekly|every_\S+)$"
    )
    secrets: list[FileRef] = Field(default_factory=list)
    configs: list[FileRef] = Field(default_factory=list)
    sysctls: dict[str, str] = Field(default_factory=dict)
    shm_size: int | None = Field(default=None, ge=0)  # bytes
    platform: str | None = None
    # Added after the first release (out of the canonical JSON while unset: ``without_unset``).
    security_opt: list[str] = Field(default_factory=list)
    dns_search: list[str] = Field(default_factory=list)
    dns_opt: list[str] = Field(default_factory=list)
    group_add: list[str] = Field(default_factory=list)
    ipc: str | None = None  # "host", "private", "shareable", "none"
    pid: str | None = None  # "host"
    domainname: str | None = None
    oom_score_adj: int | None = Field(default=None, ge=-1000, le=1000)
    cpu_shares: int | None = Field(default=None, ge=0)
    mem_reservation: int | None = Field(default=None, ge=0)  # bytes
    deploy: SwarmDeploy | None = None  # the Swarm-only parts of ``deploy``
    runtime: str | None = None  # the engine's OCI runtime (``runc``, ``runsc``); None: default

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return without_unset(self, handler(self), names=SERVICE_ADDITIONS)


SERVICE_ADDITIONS = frozenset(
    {
        "security_opt", "dns_search", "dns_opt", "group_add", "ipc", "pid", "domainname",
        "oom_score_adj", "cpu_shares", "mem_reservation", "deploy", "runtime",
    }
)  # fmt: skip


class IpamPool(Canonical):
    subnet: str | None = None
    ip_range: str | None = None
    gateway: str | None = None
    aux_addresses: dict[str, str] = Field(default_factory=dict)


class Ipam(Canonical):
    driver: str | None = None
    config: list[IpamPool] = Field(default_factory=list)
    options: dict[str, str] = Field(default_factory=dict)


class Network(Canonical):
    name: str  # the engine's name: "<stack>_<key>" unless given or external
    external: bool = False
    driver: str | None = None
    driver_opts: dict[str, str] = Field(default_factory=dict)
    ipam: Ipam | None = None
    internal: bool = False
    attachable: bool = False
    enable_ipv6: bool | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class Volume(Canonical):
    name: str  # the engine's name: "<stack>_<key>" unless given or external
    external: bool = False
    driver: str | None = None
    driver_opts: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)


class FileObject(Canonical):
    """A top-level secret or config: where its content came from and its hash."""

    name: str
    origin: Literal["file", "environment", "content", "external"]
    file: str | None = None  # root-relative, for origin "file"
    environment: str | None = None  # the variable's name, for origin "environment"
    sha256: str | None = None  # None only for external ones
    # The SOPS format of an encrypted ``file`` (its blob is the ciphertext, decrypted by the
    # runtime when it creates a container: controller.sources.secrets); None: plaintext.
    sops: Literal["dotenv", "yaml", "json", "ini", "binary"] | None = None

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return without_unset(self, handler(self), names=frozenset({"sops"}))


class ComposeProject(Canonical):
    services: dict[str, Service] = Field(default_factory=dict)
    networks: dict[str, Network] = Field(default_factory=dict)
    volumes: dict[str, Volume] = Field(default_factory=dict)
    secrets: dict[str, FileObject] = Field(default_factory=dict)
    configs: dict[str, FileObject] = Field(default_factory=dict)


def host_path(root: Path, mount: Mount) -> Path:
    """The absolute host path of a bind mount's source, for the runtime."""
    if mount.type != "bind" or mount.source is None:
        raise ValueError(f"a {mount.type} mount has no host path")
    if mount.root_relative:
        return Path(os.path.abspath(root)) / mount.source
    return Path(os.path.expanduser(mount.source))


def context_path(root: Path, build: Build) -> Path | str:
    """The build context for the runtime: an absolute path, or the remote URL as given."""
    if build.context_root_relative:
        return Path(os.path.abspath(root)) / build.context
    return build.context
