"""Normalizers for the service keys whose Compose syntax has more than one form.

Each takes the raw (already interpolated) value and its key path, reports problems through the
context, and returns the long form (or None after reporting). They must never decide anything
about other services or top-level objects; ``service.py`` and ``project.py`` do that.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from pydantic import ValidationError

from controller.desired.compose import Dependency, FileObject, FileRef, Healthcheck, ServiceNetwork
from controller.sources.loader.addresses import check_fixed_addresses
from controller.sources.loader.context import (
    ComposeContext,
    as_mapping,
    list_or_dict,
    string_list,
    type_name,
    without_extensions,
)
from controller.sources.loader.units import parse_bytes, parse_duration
from controller.sources.loader.yamlmarks import KeyPath

_RESTART = re.compile(r"no|always|unless-stopped|on-failure(?::[0-9]+)?")
_HEALTH_TIMES = ("interval", "timeout", "start_period", "start_interval")
_DEFAULT_DEPENDENCY = Dependency()


def check_keys(
    ctx: ComposeContext,
    mapping: dict[str, Any],
    *,
    path: KeyPath,
    allowed: set[str],
    known: set[str] = frozenset(),
) -> bool:
    """Report keys outside ``allowed``; ``known`` ones are Compose keys not supported yet."""
    ok = True
    for key in mapping:
        if key not in allowed and not key.startswith("x-"):
            ctx.issues.error((*path, key), "not supported yet" if key in known else "unknown key")
            ok = False
    return ok


def command(ctx: ComposeContext, value: Any, *, path: KeyPath) -> list[str] | None:
    """A string is split like a shell would (Compose does the same); a list is kept."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as e:
            ctx.issues.error(path, f"cannot split the command: {e}")
            return None
    return string_list(ctx, value, path=path, single=False, strings_only=True)


def restart(ctx: ComposeContext, value: Any, *, path: KeyPath) -> str | None:
    if isinstance(value, str) and _RESTART.fullmatch(value):
        return value
    ctx.issues.error(
        path, f"expected no, always, unless-stopped or on-failure[:N], got {type_name(value)}"
    )
    return None


def labels(ctx: ComposeContext, value: Any, *, path: KeyPath) -> dict[str, str] | None:
    """Labels without a value are empty strings, as in Compose."""
    pairs = list_or_dict(ctx, value, path=path)
    return None if pairs is None else {k: v or "" for k, v in pairs.items()}


def string_map(
    ctx: ComposeContext, value: Any, *, path: KeyPath, what: str
) -> dict[str, str] | None:
    """A list-or-mapping whose every entry needs a value (sysctls, driver options)."""
    pairs = list_or_dict(ctx, value, path=path)
    if pairs is None:
        return None
    for key, item in pairs.items():
        if item is None:
            ctx.issues.error((*path, key), f"the {what} `{key}` needs a value")
    return {k: v for k, v in pairs.items() if v is not None}


def sorted_unique(ctx: ComposeContext, value: Any, *, path: KeyPath) -> list[str] | None:
    items = string_list(ctx, value, path=path, single=False)
    return None if items is None else sorted(set(items))


def duration(ctx: ComposeContext, value: Any, *, path: KeyPath) -> int | None:
    try:
        return parse_duration(value)
    except ValueError as e:
        ctx.issues.error(path, str(e))
        return None


def size(ctx: ComposeContext, value: Any, *, path: KeyPath) -> int | None:
    try:
        return parse_bytes(value)
    except ValueError as e:
        ctx.issues.error(path, str(e))
        return None


def healthcheck(ctx: ComposeContext, value: Any, *, path: KeyPath) -> Healthcheck | None:
    raw = as_mapping(ctx, value, path=path)
    if raw is None:
        return None
    allowed = {"test", "disable", "retries", *_HEALTH_TIMES}
    if not check_keys(ctx, raw, path=path, allowed=allowed):
        return None
    raw = without_extensions(raw)
    out: dict[str, Any] = {k: v for k, v in raw.items() if k in ("retries", "disable")}
    for key in _HEALTH_TIMES:
        if raw.get(key) is not None:
            out[key] = duration(ctx, raw[key], path=(*path, key))
    test = raw.get("test")
    if isinstance(test, str):
        out["test"] = ["CMD-SHELL", test]
    elif test is not None:
        items = string_list(ctx, test, path=(*path, "test"), single=False, strings_only=True)
        if items is not None and (not items or items[0] not in ("NONE", "CMD", "CMD-SHELL")):
            ctx.issues.error((*path, "test"), "a test list starts with NONE, CMD or CMD-SHELL")
            return None
        out["test"] = items
    if out.get("test") == ["NONE"] or out.get("disable") in (True, "true"):
        others = set(raw) - {"test", "disable"}
        if others or out.get("test") not in (None, ["NONE"]):
            ctx.issues.error(path, "a disabled healthcheck takes no other settings")
            return None
        out = {"disable": True}
    try:
        return Healthcheck.model_validate(out)
    except ValidationError as e:
        ctx.issues.validation_errors(e, base=path)
        return None


def service_networks(
    ctx: ComposeContext, value: Any, *, path: KeyPath, declared: set[str]
) -> dict[str, ServiceNetwork] | None:
    if isinstance(value, list):
        names = string_list(ctx, value, path=path, single=False)
        value = dict.fromkeys(names or [])
    raw = as_mapping(ctx, value, path=path)
    if raw is None:
        return None
    out: dict[str, ServiceNetwork] = {}
    for name, settings in raw.items():
        where = (*path, name)
        if name != "default" and name not in declared:
            ctx.issues.error(where, f"network `{name}` is not declared in the top-level `networks`")
            continue
        entry = without_extensions(settings) if isinstance(settings, dict) else settings
        if entry is None:
            entry = {}
        if isinstance(entry, dict) and not check_fixed_addresses(ctx, entry, path=where):
            continue
        if isinstance(entry, dict) and "aliases" in entry:
            aliases = string_list(
                ctx, entry["aliases"], path=(*path, name, "aliases"), single=False
            )
            entry = {**entry, "aliases": sorted(set(aliases or []))}
        try:
            out[name] = ServiceNetwork.model_validate(entry)
        except ValidationError as e:
            ctx.issues.validation_errors(e, base=where)
    return out


def depends_on(ctx: ComposeContext, value: Any, *, path: KeyPath) -> dict[str, Dependency] | None:
    if isinstance(value, list):
        names = string_list(ctx, value, path=path, single=False)
        value = dict.fromkeys(names or [])
    raw = as_mapping(ctx, value, path=path)
    if raw is None:
        return None
    out: dict[str, Dependency] = {}
    for name, settings in raw.items():
        entry = without_extensions(settings) if isinstance(settings, dict) else settings
        if not entry:  # the list form's every entry: the defaults, one frozen value for all
            out[name] = _DEFAULT_DEPENDENCY
            continue
        try:
            out[name] = Dependency.model_validate(entry)
        except ValidationError as e:
            ctx.issues.validation_errors(e, base=(*path, name))
    return out


def ulimits(ctx: ComposeContext, value: Any, *, path: KeyPath) -> dict[str, dict[str, Any]] | None:
    raw = as_mapping(ctx, value, path=path)
    if raw is None:
        return None
    out: dict[str, dict[str, Any]] = {}
    for name, limit in raw.items():
        if isinstance(limit, dict):
            out[name] = without_extensions(limit)
        else:
            out[name] = {"soft": limit, "hard": limit}
    return out


def file_refs(
    ctx: ComposeContext,
    value: Any,
    *,
    path: KeyPath,
    kind: str,
    declared: dict[str, FileObject | None],
) -> list[FileRef] | None:
    """Service ``secrets``/``configs``: default targets made explicit, content hash attached."""
    if not isinstance(value, list):
        ctx.issues.error(path, f"expected a list, got {type_name(value)}")
        return None
    refs: dict[str, FileRef] = {}
    for i, item in enumerate(value):
        where = (*path, i)
        entry = {"source": item} if isinstance(item, str) else item
        if not isinstance(entry, dict):
            ctx.issues.error(where, f"expected a name or a mapping, got {type_name(item)}")
            continue
        entry = without_extensions(entry)
        source = entry.get("source")
        if source not in declared:
            ctx.issues.error(where, f"{kind} `{source}` is not declared in the top-level `{kind}s`")
            continue
        definition = declared[source]
        if definition is None:
            continue  # its definition is wrong, and says so
        target = str(entry.get("target") or source)
        if not target.startswith("/"):
            target = f"/run/secrets/{target}" if kind == "secret" else f"/{target}"
        mode = entry.get("mode")
        if isinstance(mode, str):
            try:
                mode = int(mode, 8)
            except ValueError:
                ctx.issues.error((*where, "mode"), f"invalid octal mode {mode!r}")
                continue
        fields = {**entry, "target": target, "mode": mode, "sha256": definition.sha256}
        try:
            ref = FileRef.model_validate(fields)
        except ValidationError as e:
            ctx.issues.validation_errors(e, base=where)
            continue
        if ref.target in refs:
            ctx.issues.error(where, f"two {kind}s on the target {ref.target!r}")
        refs[ref.target] = ref
    return [refs[target] for target in sorted(refs)]
