"""A compose service as a Swarm ``ServiceSpec``, and what a Swarm cannot carry out: pure.

The spec is the Engine API's own JSON (``POST /services/create``), built only from the
canonical model, so that its hash (``SPEC_HASH_LABEL``, over the spec without that label)
says whether what runs is what is wanted: the planner compares hashes, never Swarm's
normalised copy of a spec (it adds defaults, and the same spec reads back differently).
Names follow ``docker stack deploy``: services ``STACK_SERVICE`` labelled
``com.docker.stack.namespace=STACK``, so ``docker stack ps STACK`` and ``docker service ls``
show them as a stack; networks and volumes keep Compose's ``STACK_KEY``.

Secrets and configs are immutable in a Swarm: each is created under a name that carries its
content hash (``file_object_name``: ``STACK_KEY_<12 hex>``), so a changed file is a new
object the service is updated to, and the old one is removed once nothing uses it. The spec
names them; their ids, which Swarm also wants, are filled in by the runtime when it creates or
updates the service (``swarm.engine``), after hashing.

Decisions, said in docs/engines.md: ``restart: "no"`` (also the default) leaves Swarm's own policy
(any: a Swarm keeps a service at its replica count); ``on-failure[:N]`` maps to Swarm's
on-failure, ``always``/``unless-stopped`` to any. Every service gets its short name as a
network alias, as ``docker stack deploy`` does, so ``web`` resolves as under Compose.
"""

from __future__ import annotations

from typing import Any

from controller.desired import DesiredStack
from controller.desired.compose import FileObject, FileRef, Mount, Service, UpdateConfig
from controller.desired.digest import canonical_json, sha256_text
from controller.models.observed import MANAGED_LABEL
from controller.models.swarm import (
    SERVICE_LABEL,
    SPEC_HASH_LABEL,
    STACK_IMAGE_LABEL,
    STACK_LABEL,
)

NANO = 1_000_000_000

# Service fields a Swarm carries out (in ``service_spec``); any other field set to something
# else than its default is refused by name (``swarm_problems``).
_CARRIED = frozenset(
    {
        "image", "command", "entrypoint", "environment", "env_file", "ports", "expose",
        "volumes", "tmpfs", "networks", "depends_on", "healthcheck", "restart", "labels",
        "replicas", "limits", "hostname", "user", "working_dir", "cap_add", "cap_drop",
        "read_only", "init", "tty", "stdin_open", "extra_hosts", "dns", "dns_search",
        "dns_opt", "logging", "stop_signal", "stop_grace_period", "ulimits", "pull_policy",
        "secrets", "configs", "sysctls", "group_add", "mem_reservation", "deploy",
    }
)  # fmt: skip
_WHY_NOT = {
    "build": "a Swarm runs images from a registry its nodes pull from; build and push the"
    " image, then name it in `image`",
    "container_name": "a Swarm names its tasks' containers itself",
    "network_mode": "a Swarm service is attached to networks (`networks`)",
    "privileged": "Swarm services cannot run privileged",
}


def service_name(stack: str, service: str) -> str:
    return f"{stack}_{service}"


def file_object_name(stack: str, key: str, obj: FileObject) -> str:
    """The Swarm name of a secret or config: external ones as declared, the stack's own with
    their content hash (Swarm's objects are immutable: new content, new object)."""
    if obj.origin == "external":
        return obj.name
    return f"{obj.name}_{(obj.sha256 or '')[:12]}"


def wanted_files(desired: DesiredStack, kind: str) -> dict[str, str]:
    """The stack's own (not external) secrets or configs the services use: Swarm name ->
    compose key. ``kind`` is ``secrets`` or ``configs``."""
    objects: dict[str, FileObject] = getattr(desired.compose, kind)
    used = {ref.source for s in desired.compose.services.values() for ref in getattr(s, kind)}
    return {
        file_object_name(desired.name, key, obj): key
        for key, obj in objects.items()
        if key in used and obj.origin != "external"
    }


def service_spec(desired: DesiredStack, name: str) -> dict[str, Any]:
    """The ``ServiceSpec`` of service ``name``, labelled with its own hash."""
    service = desired.compose.services[name]
    stack, deploy = desired.name, service.deploy
    global_mode = deploy is not None and deploy.mode == "global"
    spec: dict[str, Any] = {
        "Name": service_name(stack, name),
        "Labels": {
            **(deploy.labels if deploy is not None else {}),
            STACK_LABEL: stack,
            STACK_IMAGE_LABEL: service.image or "",
            MANAGED_LABEL: "true",
            SERVICE_LABEL: name,
        },
        "TaskTemplate": _task_template(desired, name, service),
        "Mode": {"Global": {}} if global_mode else {"Replicated": {"Replicas": service.replicas}},
        "EndpointSpec": _endpoint_spec(service),
    }
    if deploy is not None and deploy.update_config is not None:
        spec["UpdateConfig"] = _update_config(deploy.update_config)
    if deploy is not None and deploy.rollback_config is not None:
        spec["RollbackConfig"] = _update_config(deploy.rollback_config)
    spec["Labels"][SPEC_HASH_LABEL] = spec_hash(spec)
    return spec


def _container_spec(desired: DesiredStack, service: Service) -> dict[str, Any]:
    """The task's ``ContainerSpec``: what runs, with what, as whom."""
    container: dict[str, Any] = {
        "Image": service.image,
        "Labels": {**service.labels, STACK_LABEL: desired.name},
        "Env": [f"{k}={v}" for k, v in sorted(service.environment.items())],
        "Mounts": _mounts(desired, service),
        "Init": service.init,
        "TTY": service.tty,
        "OpenStdin": service.stdin_open,
        "ReadOnly": service.read_only,
    }
    optional = {
        "Command": service.entrypoint,
        "Args": service.command,
        "Hostname": service.hostname,
        "User": service.user,
        "Dir": service.working_dir,
        "StopSignal": service.stop_signal,
        "StopGracePeriod": service.stop_grace_period,
        "Healthcheck": _healthcheck(service),
        "Hosts": [
            f"{ip} {host}" for host, ips in sorted(service.extra_hosts.items()) for ip in ips
        ],
        "CapabilityAdd": service.cap_add,
        "CapabilityDrop": service.cap_drop,
        "Groups": service.group_add,
        "Sysctls": service.sysctls,
        "Ulimits": [
            {"Name": k, "Soft": u.soft, "Hard": u.hard} for k, u in sorted(service.ulimits.items())
        ],
        "Secrets": _file_refs(desired, service.secrets, kind="secrets"),
        "Configs": _file_refs(desired, service.configs, kind="configs"),
    }
    container.update({k: v for k, v in optional.items() if v not in (None, [], {})})
    dns = {"Nameservers": service.dns, "Search": service.dns_search, "Options": service.dns_opt}
    if any(dns.values()):
        container["DNSConfig"] = {k: v for k, v in dns.items() if v}
    return container


def _task_template(desired: DesiredStack, name: str, service: Service) -> dict[str, Any]:
    """The ``TaskTemplate``: the container, its networks, resources, restarts, placement."""
    task: dict[str, Any] = {
        "ContainerSpec": _container_spec(desired, service),
        "Networks": [
            {"Target": desired.compose.networks[key].name, "Aliases": sorted({*n.aliases, name})}
            for key, n in sorted(service.networks.items())
        ],
        "ForceUpdate": 0,
    }
    resources = _resources(service)
    if resources:
        task["Resources"] = resources
    if service.restart.startswith("on-failure"):
        attempts = service.restart.partition(":")[2]
        task["RestartPolicy"] = {"Condition": "on-failure", "MaxAttempts": int(attempts or 0)}
    elif service.restart in ("always", "unless-stopped"):
        task["RestartPolicy"] = {"Condition": "any"}
    deploy = service.deploy
    if deploy is not None and deploy.placement is not None:
        placement = deploy.placement
        task["Placement"] = {
            "Constraints": placement.constraints,
            "Preferences": [{"Spread": {"SpreadDescriptor": p}} for p in placement.preferences],
            **(
                {"MaxReplicas": placement.max_replicas_per_node}
                if placement.max_replicas_per_node
                else {}
            ),
        }
    if service.logging is not None and service.logging.driver:
        task["LogDriver"] = {"Name": service.logging.driver, "Options": service.logging.options}
    return task


def _endpoint_spec(service: Service) -> dict[str, Any]:
    """How the service is reached: VIP or DNS round robin, and its published ports."""
    deploy = service.deploy
    return {
        "Mode": (deploy.endpoint_mode if deploy is not None else None) or "vip",
        "Ports": [
            {
                "Protocol": p.protocol,
                "TargetPort": p.target,
                "PublishMode": p.mode,
                **({"PublishedPort": int(p.published)} if p.published else {}),
            }
            for p in service.ports
        ],
    }


def spec_hash(spec: dict[str, Any]) -> str:
    """SHA-256 hex of ``spec`` without its own hash label, nor ``TaskTemplate.ForceUpdate``
    (raised to make Swarm redo an update it paused or rolled back: the same spec)."""
    labels = {k: v for k, v in spec.get("Labels", {}).items() if k != SPEC_HASH_LABEL}
    task = {k: v for k, v in spec.get("TaskTemplate", {}).items() if k != "ForceUpdate"}
    return sha256_text(canonical_json({**spec, "Labels": labels, "TaskTemplate": task}))


def _mounts(desired: DesiredStack, service: Service) -> list[dict[str, Any]]:
    mounts = [_mount(desired, m) for m in service.volumes]
    for entry in service.tmpfs:
        mounts.append({"Type": "tmpfs", "Target": entry})
    return mounts


def _mount(desired: DesiredStack, mount: Mount) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": mount.type, "Target": mount.target, "ReadOnly": mount.read_only}
    if mount.type == "volume":
        volume = desired.compose.volumes.get(mount.source) if mount.source else None
        options: dict[str, Any] = {"Labels": {STACK_LABEL: desired.name}}
        if volume is not None:
            out["Source"] = volume.name
            if volume.driver:
                options["DriverConfig"] = {"Name": volume.driver, "Options": volume.driver_opts}
        if mount.volume is not None and mount.volume.nocopy:
            options["NoCopy"] = True
        out["VolumeOptions"] = options
    elif mount.type == "bind":
        out["Source"] = mount.source
        if mount.bind is not None and mount.bind.propagation:
            out["BindOptions"] = {"Propagation": mount.bind.propagation}
    elif mount.tmpfs is not None:
        tmpfs = {"SizeBytes": mount.tmpfs.size, "Mode": mount.tmpfs.mode}
        out["TmpfsOptions"] = {k: v for k, v in tmpfs.items() if v is not None}
    return out


def _file_refs(desired: DesiredStack, refs: list[FileRef], *, kind: str) -> list[dict[str, Any]]:
    objects: dict[str, FileObject] = getattr(desired.compose, kind)
    out = []
    for ref in refs:
        name = file_object_name(desired.name, ref.source, objects[ref.source])
        file = {
            "Name": ref.target,
            "UID": ref.uid or "0",
            "GID": ref.gid or "0",
            "Mode": ref.mode if ref.mode is not None else 0o444,
        }
        out.append({"File": file, f"{kind[:-1].capitalize()}Name": name})
    return out


def _healthcheck(service: Service) -> dict[str, Any] | None:
    check = service.healthcheck
    if check is None:
        return None
    if check.disable:
        return {"Test": ["NONE"]}
    fields = {
        "Test": check.test,
        "Interval": check.interval,
        "Timeout": check.timeout,
        "Retries": check.retries,
        "StartPeriod": check.start_period,
    }
    return {k: v for k, v in fields.items() if v is not None}


def _resources(service: Service) -> dict[str, Any]:
    limits = {
        "NanoCPUs": round(service.limits.cpus * NANO) if service.limits.cpus else None,
        "MemoryBytes": service.limits.memory,
        "Pids": service.limits.pids,
    }
    out: dict[str, Any] = {}
    if any(v is not None for v in limits.values()):
        out["Limits"] = {k: v for k, v in limits.items() if v is not None}
    if service.mem_reservation is not None:
        out["Reservations"] = {"MemoryBytes": service.mem_reservation}
    return out


def _update_config(config: UpdateConfig) -> dict[str, Any]:
    fields = {
        "Parallelism": 1 if config.parallelism is None else config.parallelism,  # the CLI's
        "Delay": config.delay,
        "FailureAction": config.failure_action,
        "Monitor": config.monitor,
        "MaxFailureRatio": config.max_failure_ratio,
        "Order": config.order,
    }
    return {k: v for k, v in fields.items() if v is not None}


def swarm_problems(desired: DesiredStack) -> list[str]:
    """What this stack says that a Swarm cannot carry out, each by its key
    (``shared.problems.in_file`` says where): checked before anything runs, so nothing is
    half-applied or silently dropped."""
    problems = []
    defaults = Service.model_fields
    for name, service in sorted(desired.compose.services.items()):
        where = f"services.{name}"
        for field in sorted(defaults):
            if field in _CARRIED or getattr(service, field) == _default(field):
                continue
            why = _WHY_NOT.get(field, "a Swarm service has no such setting")
            problems.append(f"{where}.{field}: not carried out on a Swarm engine: {why}")
        problems += _service_problems(desired, where, service)
    for key, network in sorted(desired.compose.networks.items()):
        if not network.external and network.driver not in (None, "overlay"):
            problems.append(
                f"networks.{key}.driver: {network.driver!r}: a Swarm service can only join"
                " overlay networks"
            )
    return problems


def _default(field: str) -> Any:
    return Service.model_fields[field].get_default(call_default_factory=True)


def _service_problems(desired: DesiredStack, where: str, service: Service) -> list[str]:
    problems = []
    for volume in service.volumes:
        if volume.type == "bind" and volume.root_relative:
            problems.append(
                f"{where}.volumes ({volume.target}): a bind of {volume.source!r}, relative to"
                " the manifest, cannot be carried out on a Swarm: its tasks run on the nodes"
                " (bind an absolute path the nodes have, or use a volume)"
            )
        if volume.bind is not None and volume.bind.selinux is not None:
            problems.append(f"{where}.volumes ({volume.target}): a Swarm has no bind.selinux")
        if volume.volume is not None and volume.volume.subpath is not None:
            problems.append(f"{where}.volumes ({volume.target}): a Swarm has no volume.subpath")
    problems += [
        f"{where}.tmpfs ({entry}): options are not carried out on a Swarm (use a tmpfs volume"
        " with tmpfs.size)"
        for entry in service.tmpfs
        if ":" in entry
    ]
    if service.healthcheck is not None and service.healthcheck.start_interval is not None:
        problems.append(f"{where}.healthcheck.start_interval: this Swarm has no start interval")
    for port in service.ports:
        if port.host_ip:
            problems.append(
                f"{where}.ports ({port.target}): host_ip {port.host_ip}: a Swarm publishes on"
                " every address of its nodes"
            )
        if port.published and not port.published.isdigit():
            problems.append(
                f"{where}.ports ({port.target}): the range {port.published} cannot be published"
                " by a Swarm service"
            )
    for dep, dependency in sorted(service.depends_on.items()):
        if dependency.condition == "service_completed_successfully":
            problems.append(
                f"{where}.depends_on.{dep}: service_completed_successfully: a Swarm service"
                " runs until it is removed; no service of a Swarm stack completes"
            )
    for key, network in sorted(service.networks.items()):
        if network.ipv4_address or network.ipv6_address:
            problems.append(f"{where}.networks.{key}: a Swarm assigns its tasks' addresses")
        if network.priority:
            problems.append(f"{where}.networks.{key}.priority: a Swarm has no network priority")
    if any(f.sops for f in service.env_file):
        problems.append(
            f"{where}.env_file: an encrypted env file would put its plaintext in the service's"
            " spec, which anyone who can inspect the service reads; use a secret"
        )
    return problems
