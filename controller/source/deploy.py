"""A service's ``deploy`` section and the service keys Compose folds into it.

``deploy.replicas``/``scale`` -> ``replicas``; ``deploy.resources.limits``, ``cpus``,
``mem_limit`` and ``pids_limit`` -> ``limits`` (two spellings of one setting must agree, as in
Compose); ``deploy.restart_policy`` -> the engine's restart policy. The Swarm-only parts
(placement, update_config, ...) are refused as not supported. Only this service's mapping is
read; problems go to the context.
"""

from __future__ import annotations

import math
from typing import Any

from controller.source import service_keys as keys
from controller.source.context import ComposeContext, as_mapping, type_name
from controller.source.yamlload import KeyPath

_DEPLOY_KNOWN = {
    "endpoint_mode", "labels", "mode", "placement", "rollback_config", "update_config",
}  # fmt: skip


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
        allowed={"replicas", "resources", "restart_policy"},
        known=_DEPLOY_KNOWN,
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
