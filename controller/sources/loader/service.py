"""One service: raw Compose mapping in, canonical ``Service`` out (or errors).

Owns the list of supported service keys, ``build``, ``environment`` + ``env_file`` merging,
``deploy``/``scale``/``cpus``/``mem_limit``/``pids_limit`` folding into ``replicas`` and
``limits``, and the per-service rules of Compose (an image or a build, the image checked
against the reference grammar in ``references.py``; ``networks`` or ``network_mode``, not
both). A Compose key stackctl does not implement yet is an error saying
so, never dropped; a key ``docker compose up`` itself ignores (``develop``) is accepted with a
warning.

Environment: env files are read in order, then ``environment`` overrides them. A bare name
(``- FOO`` or ``FOO:`` without value) takes its value from the stack's variables, as Compose v2
takes it from the project's environment (``environment.py``). Relations between services
(``depends_on`` targets, profiles, cycles) are checked in ``project.py``; this module must never
look at other services.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from controller.desired.compose import FileObject, Service
from controller.sources.loader import addresses, references
from controller.sources.loader import service_keys as keys
from controller.sources.loader.context import (
    ComposeContext,
    as_mapping,
    string_list,
    type_name,
    without_extensions,
)
from controller.sources.loader.deploy import deploy_restart, deploy_settings, swarm_deploy
from controller.sources.loader.environment import service_environment
from controller.sources.loader.files import FileProblem, exists, is_dir, is_file
from controller.sources.loader.mounts import normalize_tmpfs, normalize_volumes
from controller.sources.loader.ports import normalize_expose, normalize_ports
from controller.sources.loader.root import RootPath
from controller.sources.loader.units import parse_duration
from controller.sources.loader.yamlmarks import KeyPath

# Keys of the Compose Specification's service schema that stackctl does not implement (yet).
# fmt: off
COMPOSE_SERVICE_KEYS = frozenset(
    [
        "annotations", "attach", "blkio_config", "cgroup", "cgroup_parent", "cpu_count",
        "cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares",
        "cpuset", "credential_spec", "device_cgroup_rules", "devices", "external_links", "gpus",
        "isolation", "label_file", "links", "mac_address", "mem_swappiness", "memswap_limit",
        "models", "oom_kill_disable", "post_start", "pre_start", "pre_stop", "provider",
        "pull_refresh_after", "storage_opt", "use_api_socket", "userns_mode", "uts",
        "volumes_from",
    ]
)
_SIMPLE = frozenset(
    [
        "container_name", "hostname", "user", "working_dir", "privileged", "read_only",
        "init", "tty", "stdin_open", "stop_signal", "platform", "network_mode", "ipc", "pid",
        "domainname", "oom_score_adj", "cpu_shares", "runtime",
    ]
)
_FOLDED = frozenset(
    [
        "environment", "env_file", "deploy", "scale", "cpus", "mem_limit", "pids_limit",
        "profiles",
    ]
)
_BUILD_KEYS = {"context", "dockerfile", "dockerfile_inline", "args", "target", "labels", "tags"}
_COMPOSE_BUILD_KEYS = frozenset(
    [
        "additional_contexts", "cache_from", "cache_to", "entitlements",
        "extra_hosts", "isolation", "network", "no_cache", "platforms", "privileged",
        "provenance", "pull", "sbom", "secrets", "shm_size", "ssh", "ulimits",
    ]
)
# fmt: on
_REMOTE_CONTEXT = re.compile(r"^(?:https?://|git@|git://|ssh://|github\.com/)")
_PULL_ALIASES = {"if_not_present": "missing"}
_PULL_POLICIES = frozenset({"always", "never", "missing", "build", "daily", "weekly"})


@dataclass(frozen=True)
class Declared:
    """Top-level objects a service may refer to."""

    networks: set[str] = field(default_factory=set)
    volumes: set[str] = field(default_factory=set)
    secrets: dict[str, FileObject | None] = field(default_factory=dict)  # None: broken
    configs: dict[str, FileObject | None] = field(default_factory=dict)


@dataclass
class RawService:
    """What ``project.py`` needs besides the canonical service."""

    service: Service | None
    profiles: list[str]


def normalize_service(
    ctx: ComposeContext, raw: Any, *, path: KeyPath, declared: Declared
) -> RawService:
    mapping = as_mapping(ctx, raw, path=path)
    if mapping is None:
        return RawService(None, [])
    before = len(ctx.issues.errors)
    profiles: list[str] = []
    if "profiles" in mapping:
        profiles = (
            keys.string_list(ctx, mapping["profiles"], path=(*path, "profiles"), single=False) or []
        )
    _check_service_keys(ctx, mapping, path=path)
    if not ctx.enabled(profiles):
        # Disabled by its profiles: only its keys are checked; its files are not read, as
        # Compose does not read them either.
        return RawService(None, profiles)
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if key in _SIMPLE:
            if value != "":  # an empty string is unset, as in Compose (`platform: ${UNSET}`)
                out[key] = value
        elif (handler := _HANDLERS.get(key)) is not None:
            errors = len(ctx.issues.errors)
            converted = handler(ctx, value, path=(*path, key), declared=declared)
            if len(ctx.issues.errors) == errors:  # else reported; leave it to the defaults
                out[key] = converted
    out["environment"], out["env_file"] = service_environment(ctx, mapping, path=path)
    replicas, limits = deploy_settings(ctx, mapping, path=path)
    if replicas is not None:
        out["replicas"], out["limits"] = replicas, limits
    swarm = swarm_deploy(ctx, mapping, path=path)
    if swarm is not None:
        out["deploy"] = swarm
    restart = deploy_restart(ctx, mapping, path=path)
    if restart is not None:
        if "restart" in mapping and out.get("restart") not in (None, restart):
            ctx.issues.error(
                (*path, "deploy", "restart_policy"), "`restart` and `deploy.restart_policy` differ"
            )
        out["restart"] = restart
    _check_rules(ctx, mapping, out=out, path=path)
    try:
        # Validated even after errors, so that every wrong key of the file is reported.
        service = Service.model_validate(out)
    except ValidationError as e:
        ctx.issues.validation_errors(e, base=path)
        return RawService(None, profiles)
    return RawService(service if len(ctx.issues.errors) == before else None, profiles)


# Keys that ``docker compose up`` itself ignores: accepted, with a warning saying so.
_IGNORED = {
    "develop": "ignored: Compose Watch settings; stackctl converges from the files in the"
    " watched directory and never syncs files into running containers",
}


def _check_service_keys(ctx: ComposeContext, mapping: dict[str, Any], *, path: KeyPath) -> None:
    for key in mapping:
        if key.startswith("x-") or key in _SIMPLE or key in _HANDLERS or key in _FOLDED:
            continue
        if key == "extends":  # applied before (compose_extends); left only where it failed
            continue
        if key in _IGNORED:
            ctx.issues.warn((*path, key), _IGNORED[key])
            continue
        known = key in COMPOSE_SERVICE_KEYS
        ctx.issues.error((*path, key), "not supported yet" if known else "unknown key")


def _check_rules(
    ctx: ComposeContext, mapping: dict[str, Any], *, out: dict[str, Any], path: KeyPath
) -> None:
    if "extends" in mapping:
        pass  # its `extends` failed (said): what it lacks may be what the base would give
    elif mapping.get("image") == "" and mapping.get("build") is None:
        ctx.issues.error((*path, "image"), "an empty image reference names no image")
    elif mapping.get("image") is None and mapping.get("build") is None:
        ctx.issues.error(path, "a service needs an `image` or a `build`")
    if "network_mode" in mapping and "networks" in mapping:
        ctx.issues.error(
            (*path, "network_mode"), "`network_mode` and `networks` cannot be combined"
        )
    if "network_mode" not in mapping and "networks" not in mapping:
        out["networks"] = {"default": {}}
    for key in ("ipc", "pid"):
        mode = mapping.get(key)
        if isinstance(mode, str) and mode.startswith(("service:", "container:")):
            ctx.issues.error(
                (*path, key),
                f"`{mode}`: sharing another container's {key} namespace is not supported yet",
            )
    if mapping.get("container_name") and out.get("replicas", 1) > 1:
        ctx.issues.error(
            (*path, "container_name"), "a fixed `container_name` allows one replica only"
        )


def _build(
    ctx: ComposeContext, value: Any, *, path: KeyPath, declared: Declared
) -> dict[str, Any] | None:
    raw = {"context": value} if isinstance(value, str) else as_mapping(ctx, value, path=path)
    if raw is None or not keys.check_keys(
        ctx, raw, path=path, allowed=_BUILD_KEYS, known=_COMPOSE_BUILD_KEYS
    ):
        return None
    raw = without_extensions(raw)
    context = raw.get("context", ".")
    out: dict[str, Any] = {"context": context, "target": raw.get("target")}
    if not isinstance(context, str):
        ctx.issues.error((*path, "context"), f"expected a path or URL, got {type_name(context)}")
        return None
    dockerfile = str(raw.get("dockerfile") or "Dockerfile")
    out["dockerfile"] = dockerfile
    inline = _dockerfile_inline(ctx, raw, path=path)
    if inline is not None:
        out["dockerfile_inline"] = inline
    if _REMOTE_CONTEXT.match(context):
        out["context_root_relative"] = False
        if inline is not None:
            ctx.issues.error(
                (*path, "dockerfile_inline"), "needs a local build context, not a remote one"
            )
    else:
        where = ctx.locate(context, (*path, "context") if "context" in raw else path)
        if where is None:
            return None
        if not is_dir(where.path):
            problem = "is not a folder" if exists(where.path) else "not found"
            ctx.issues.error((*path, "context"), f"build context `{where.rel}` {problem}")
            return None
        out["context"] = ctx.stored(where)
        file_path = (*path, "dockerfile") if "dockerfile" in raw else path
        if "dockerfile_inline" not in raw:  # inline, the Dockerfile is text: no file to find
            _check_dockerfile(ctx, where=where, dockerfile=dockerfile, file_path=file_path)
    if "args" in raw:
        args = keys.list_or_dict(ctx, raw["args"], path=(*path, "args"))
        for name in [k for k, v in (args or {}).items() if v is None]:
            ctx.issues.warn((*path, "args", name), f"build arg `{name}` has no value; left out")
        out["args"] = {k: v for k, v in (args or {}).items() if v is not None}
    _build_names(ctx, raw, out, path=path)
    return out


def _build_names(
    ctx: ComposeContext, raw: dict[str, Any], out: dict[str, Any], *, path: KeyPath
) -> None:
    """``build.labels`` (on the built image) and ``build.tags`` (more names for it, each an
    image reference: ``docker compose build`` tags them all)."""
    if "labels" in raw:
        out["labels"] = keys.labels(ctx, raw["labels"], path=(*path, "labels")) or {}
    if "tags" in raw:
        tags = string_list(ctx, raw["tags"], path=(*path, "tags"), single=False) or []
        for index, tag in enumerate(tags):
            if (problem := references.reference_problem(tag)) is not None:
                ctx.issues.error((*path, "tags", index), problem)
        out["tags"] = tags


def _dockerfile_inline(ctx: ComposeContext, raw: dict[str, Any], *, path: KeyPath) -> str | None:
    """``build.dockerfile_inline``: the Dockerfile as text; never together with ``dockerfile``."""
    if "dockerfile_inline" not in raw:
        return None
    inline = raw["dockerfile_inline"]
    if not isinstance(inline, str) or not inline.strip():
        ctx.issues.error((*path, "dockerfile_inline"), "expected the Dockerfile's text")
        return None
    if "dockerfile" in raw:
        ctx.issues.error(
            (*path, "dockerfile_inline"), "`dockerfile` and `dockerfile_inline` exclude each other"
        )
        return None
    return inline


def _check_dockerfile(
    ctx: ComposeContext, *, where: RootPath, dockerfile: str, file_path: KeyPath
) -> None:
    try:
        found = ctx.root.locate(base=where.path, ref=dockerfile)  # relative to the context
    except FileProblem as e:
        ctx.issues.error(file_path, e.message)
    else:
        if not is_file(found.path):
            ctx.issues.error(file_path, f"Dockerfile `{found.rel}` not found")


def _pull_policy(ctx: ComposeContext, value: Any, *, path: KeyPath, declared: Declared) -> Any:
    """Compose's policies; ``every_<duration>`` takes a Compose duration (``every_12h``)."""
    if not isinstance(value, str):
        return value  # the model says what type it wants
    value = _PULL_ALIASES.get(value, value)
    if value.startswith("every_"):
        try:
            period = parse_duration(value.removeprefix("every_"))
        except ValueError as e:
            ctx.issues.error(path, f"{value!r}: {e}")
            return None
        if period <= 0:
            ctx.issues.error(path, f"{value!r}: the period must be longer than 0s")
            return None
    elif value not in _PULL_POLICIES:
        ctx.issues.error(
            path,
            f"unknown pull_policy {value!r}; expected always, never, missing, build, daily,"
            " weekly or every_<duration> (e.g. every_12h)",
        )
        return None
    return value


Handler = Callable[..., Any]  # (ctx, value, *, path, declared) -> long form, or None


def _plain(normalize: Callable[..., Any], **options: Any) -> Handler:
    """A normalizer that needs no top-level declarations, as a handler."""
    return lambda ctx, value, *, path, declared: normalize(ctx, value, path=path, **options)


def _volumes(ctx: ComposeContext, value: Any, *, path: KeyPath, declared: Declared) -> Any:
    return normalize_volumes(ctx, value, path=path, declared=declared.volumes)


def _networks(ctx: ComposeContext, value: Any, *, path: KeyPath, declared: Declared) -> Any:
    return keys.service_networks(ctx, value, path=path, declared=declared.networks)


def _secrets(ctx: ComposeContext, value: Any, *, path: KeyPath, declared: Declared) -> Any:
    return keys.file_refs(ctx, value, path=path, kind="secret", declared=declared.secrets)


def _configs(ctx: ComposeContext, value: Any, *, path: KeyPath, declared: Declared) -> Any:
    return keys.file_refs(ctx, value, path=path, kind="config", declared=declared.configs)


def _logging(ctx: ComposeContext, value: Any, *, path: KeyPath) -> dict[str, Any] | None:
    raw = as_mapping(ctx, value, path=path)
    if raw is None or not keys.check_keys(ctx, raw, path=path, allowed={"driver", "options"}):
        return None
    out = without_extensions(raw)
    if out.get("options") is not None:
        out["options"] = keys.string_map(
            ctx, out["options"], path=(*path, "options"), what="logging option"
        )
    else:
        out.pop("options", None)
    return out


_HANDLERS: dict[str, Handler] = {
    "image": _plain(references.image),
    "build": _build,
    "command": _plain(keys.command),
    "entrypoint": _plain(keys.command),
    "ports": _plain(normalize_ports),
    "expose": _plain(normalize_expose),
    "volumes": _volumes,
    "tmpfs": _plain(normalize_tmpfs),
    "networks": _networks,
    "depends_on": _plain(keys.depends_on),
    "healthcheck": _plain(keys.healthcheck),
    "restart": _plain(keys.restart),
    "labels": _plain(keys.labels),
    "cap_add": _plain(keys.sorted_unique),
    "cap_drop": _plain(keys.sorted_unique),
    "extra_hosts": _plain(addresses.extra_hosts),
    "dns": _plain(keys.string_list),
    "logging": _plain(_logging),
    "stop_grace_period": _plain(keys.duration),
    "ulimits": _plain(keys.ulimits),
    "pull_policy": _pull_policy,
    "secrets": _secrets,
    "configs": _configs,
    "sysctls": _plain(keys.string_map, what="sysctl"),
    "shm_size": _plain(keys.size),
    "mem_reservation": _plain(keys.size),
    "security_opt": _plain(string_list, single=False),
    "dns_search": _plain(string_list),
    "dns_opt": _plain(string_list, single=False),
    "group_add": _plain(string_list, single=False),
}
