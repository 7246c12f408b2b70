"""A service's ``deploy`` section and the service keys Compose folds into it.

``deploy.replicas``/``scale`` -> ``replicas``; ``deploy.resources.limits``, ``cpus``,
``mem_limit`` and ``pids_limit`` -> ``limits`` (two spellings of one setting must agree, as in
Compose); ``deploy.restart_policy`` -> the engine's restart policy. The Swarm-only parts
(``mode``, ``endpoint_mode``, ``placement``, ``update_config``, ``rollback_config``,
``labels``) -> ``Service.deploy`` (``swarm_deploy``): the model keeps them whatever the target,
and the planner refuses them by name for a stack on a Docker engine, where nothing would carry
them out. Only this service's mapping is read; problems go to the context.
"""

from __future__ import annotations

import math
from typing import Any

from controller.sources.loader import service_keys as keys
from controller.sources.loader.context import ComposeContext, as_mapping, type_name
from controller.sources.loader.yamlmarks import KeyPath

SWARM_KEYS = frozenset(
    {"endpoint_mode", "labels", "mode", "placement", "rollback_config", "update_config"}
)
_UPDATE_KEYS = {"parallelism", "delay", "failure_action", "monitor", "max_failure_ratio", "order"}


def deploy_settings(
    ctx: ComposeContext, mapping: dict[str, Any], *, path: KeyPath
) -> tuple[int | None, dict[str, Any] | None]:
    """``deploy.replicas``/``scale`` -> replicas; ``deploy.resources.limits``/``cpus``/
    ``mem_limit`` -> limits. Both spellings of one setting must agree, as in Compose.
    None after an error (reported at the key as written)."""
    before = len(ctx.issues.errors)
    replicas = (
        _number(ctx, mapping["scale"], path=(*path, "scale"), kind=int)
        if "scale" in mapping
        else None
    )
    limits: dict[str, Any] = {}
    deploy = mapping.get("deploy")
    deploy = {} if deploy is None else as_mapping(ctx, deploy, path=(*path, "deploy")) or {}
    where = (*path, "deploy")
    keys.check_keys(
        ctx,
        deploy,
        path=where,
        allowed={"replicas", "resources", "restart_policy", *SWARM_KEYS},
    )
    if deploy.get("replicas") is not None:
        value = _number(ctx, deploy["replicas"], path=(*where, "replicas"), kind=int)
        if replicas is not None and value is not None and value != replicas:
            ctx.issues.error((*where, "replicas"), "`deploy.replicas` and `scale` differ")
        replicas = value
    if deploy.get("resources") is not None:
        limits = _resource_limits(ctx, deploy["resources"], path=(*where, "resources"))
    for key, name in (("cpus", "cpus"), ("mem_limit", "memory"), ("pids_limit", "pids")):
        if mapping.get(key) is None or (key == "pids_limit" and str(mapping[key]) == "-1"):
            continue  # pids_limit -1 means unlimited, which is the default
        if key == "mem_limit":
            value = keys.size(ctx, mapping[key], path=(*path, key))
        else:
            kind = int if key == "pids_limit" else float
            value = _number(ctx, mapping[key], path=(*path, key), kind=kind)
        if name in limits and value is not None and limits[name] != value:
            ctx.issues.error((*path, key), f"`{key}` and `deploy.resources.limits.{name}` differ")
        limits[name] = value
    if len(ctx.issues.errors) > before:
        return None, None
    return (1 if replicas is None else replicas), limits


def deploy_restart(ctx: ComposeContext, mapping: dict[str, Any], *, path: KeyPath) -> str | None:
    """``deploy.restart_policy`` as the engine's restart policy, the way ``docker compose up``
    maps it: none -> no, any -> always, on-failure[:max_attempts]. The engine has no delay or
    window: they are ignored with a warning."""
    deploy = mapping.get("deploy")
    if not isinstance(deploy, dict) or deploy.get("restart_policy") is None:
        return None
    where = (*path, "deploy", "restart_policy")
    policy = as_mapping(ctx, deploy["restart_policy"], path=where)
    allowed = {"condition", "max_attempts", "delay", "window"}
    if policy is None or not keys.check_keys(ctx, policy, path=where, allowed=allowed):
        return None
    for key in ("delay", "window"):
        if key in policy:
            ctx.issues.warn((*where, key), "ignored: the engine's restart policy has no " + key)
    attempts = None
    if policy.get("max_attempts") is not None:
        attempts = _number(ctx, policy["max_attempts"], path=(*where, "max_attempts"), kind=int)
    condition = policy.get("condition", "any")
    if condition == "on-failure":
        return f"on-failure:{attempts}" if attempts else "on-failure"
    if condition in ("none", "any"):
        if attempts:
            ctx.issues.warn((*where, "max_attempts"), f"ignored with condition {condition}")
        return "no" if condition == "none" else "always"
    ctx.issues.error((*where, "condition"), "expected none, on-failure or any")
    return None


def swarm_deploy(
    ctx: ComposeContext, mapping: dict[str, Any], *, path: KeyPath
) -> dict[str, Any] | None:
    """The Swarm-only keys of ``deploy`` as ``SwarmDeploy`` data; None when none is set."""
    deploy = mapping.get("deploy")
    if not isinstance(deploy, dict) or not any(deploy.get(k) is not None for k in SWARM_KEYS):
        return None
    where = (*path, "deploy")
    out: dict[str, Any] = {}
    mode = deploy.get("mode")
    if mode is not None:
        if mode in ("replicated-job", "global-job"):
            ctx.issues.error((*where, "mode"), f"not supported yet: {mode}")
        elif mode not in ("replicated", "global"):
            ctx.issues.error((*where, "mode"), "expected replicated or global")
        else:
            out["mode"] = mode
    endpoint = deploy.get("endpoint_mode")
    if endpoint is not None:
        if endpoint not in ("vip", "dnsrr"):
            ctx.issues.error((*where, "endpoint_mode"), "expected vip or dnsrr")
        else:
            out["endpoint_mode"] = endpoint
    if deploy.get("labels") is not None:
        out["labels"] = keys.labels(ctx, deploy["labels"], path=(*where, "labels")) or {}
    if deploy.get("placement") is not None:
        out["placement"] = _placement(ctx, deploy["placement"], path=(*where, "placement"))
    for key in ("update_config", "rollback_config"):
        if deploy.get(key) is not None:
            out[key] = _update_config(ctx, deploy[key], path=(*where, key))
    return out


def _placement(ctx: ComposeContext, value: Any, *, path: KeyPath) -> dict[str, Any]:
    placement = as_mapping(ctx, value, path=path) or {}
    allowed = {"constraints", "preferences", "max_replicas_per_node"}
    keys.check_keys(ctx, placement, path=path, allowed=allowed)
    out: dict[str, Any] = {}
    if placement.get("constraints") is not None:
        where = (*path, "constraints")
        out["constraints"] = keys.sorted_unique(ctx, placement["constraints"], path=where) or []
    preferences = placement.get("preferences")
    if preferences is not None:
        spread: list[str] = []
        if not isinstance(preferences, list):
            ctx.issues.error(
                (*path, "preferences"), f"expected a list, got {type_name(preferences)}"
            )
            preferences = []
        for i, item in enumerate(preferences):
            where = (*path, "preferences", i)
            if not isinstance(item, dict) or set(item) != {"spread"} or not item["spread"]:
                ctx.issues.error(where, "expected {spread: DESCRIPTOR}")
            else:
                spread.append(str(item["spread"]))
        out["preferences"] = spread
    if placement.get("max_replicas_per_node") is not None:
        where = (*path, "max_replicas_per_node")
        out["max_replicas_per_node"] = _number(
            ctx, placement["max_replicas_per_node"], path=where, kind=int
        )
    return out


def _update_config(ctx: ComposeContext, value: Any, *, path: KeyPath) -> dict[str, Any]:
    config = as_mapping(ctx, value, path=path) or {}
    keys.check_keys(ctx, config, path=path, allowed=_UPDATE_KEYS)
    out: dict[str, Any] = {}
    for key in ("delay", "monitor"):
        if config.get(key) is not None:
            out[key] = keys.duration(ctx, config[key], path=(*path, key))
    if config.get("parallelism") is not None:
        where = (*path, "parallelism")
        out["parallelism"] = _number(ctx, config["parallelism"], path=where, kind=int)
    if config.get("max_failure_ratio") is not None:
        where = (*path, "max_failure_ratio")
        out["max_failure_ratio"] = _number(ctx, config["max_failure_ratio"], path=where, kind=float)
    choices = {
        "failure_action": ("continue", "rollback", "pause"),
        "order": ("stop-first", "start-first"),
    }
    for key, allowed in choices.items():
        if config.get(key) is not None:
            if config[key] not in allowed:
                ctx.issues.error((*path, key), "expected " + " or ".join(allowed))
            else:
                out[key] = config[key]
    return out


def _number(ctx: ComposeContext, value: Any, *, path: KeyPath, kind: type) -> Any:
    """A finite, non-negative int or float, from a number or an (interpolated) numeric
    string; ``.inf``/``.nan`` (YAML floats, or the strings ``inf``/``nan``) are refused."""
    try:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError
        number = float(value) if kind is float else _whole(value)
        if number < 0 or not math.isfinite(number):
            raise ValueError
        return number
    except (ValueError, OverflowError):
        what = "a whole number" if kind is int else "a number"
        ctx.issues.error(path, f"expected {what} of at least 0, got {type_name(value)}")
        return None


def _whole(value: str | int | float) -> int:
    """An integer from an int, an integral float (``2.0``) or a numeric string (``"3"``)."""
    if isinstance(value, float) and not value.is_integer():  # also false for inf and nan
        raise ValueError
    return int(value)


def _resource_limits(ctx: ComposeContext, value: Any, *, path: KeyPath) -> dict[str, Any]:
    resources = as_mapping(ctx, value, path=path) or {}
    keys.check_keys(ctx, resources, path=path, allowed={"limits"}, known={"reservations"})
    if resources.get("limits") is None:
        return {}
    where = (*path, "limits")
    limits = as_mapping(ctx, resources["limits"], path=where) or {}
    keys.check_keys(ctx, limits, path=where, allowed={"cpus", "memory", "pids"})
    out: dict[str, Any] = {}
    if limits.get("cpus") is not None:
        out["cpus"] = _number(ctx, limits["cpus"], path=(*where, "cpus"), kind=float)
    if limits.get("memory") is not None:
        out["memory"] = keys.size(ctx, limits["memory"], path=(*where, "memory"))
    if limits.get("pids") is not None:
        out["pids"] = _number(ctx, limits["pids"], path=(*where, "pids"), kind=int)
    return out
