"""Merging two raw compose mappings the way Docker Compose v2 does (compose-go
``override/merge.go`` and ``override/uncity.go``): ``-f a -f b``, a folder's
``compose.override.yaml``, and a service's ``extends``.

Mappings merge key by key; a scalar of the override replaces the base's; a sequence is
appended to. Compose's special rules, by key path: ``command``, ``entrypoint`` and
``healthcheck.test`` are replaced whole; ``environment``, ``labels``, ``env_file``, ``dns``,
``sysctls``, ``tmpfs``, ``annotations``, ``build.args`` (...) become ``KEY=VALUE`` sequences and
are appended; ``depends_on``, ``networks`` (service level) and ``build`` are mappings even when
written short; ``logging`` merges its options only when both name the same driver (or one
none); ``extra_hosts`` drops repeated entries. Then an entry of ``ports``, ``volumes``,
``environment``, ``labels``, ``secrets`` (...) that the override defines again (same target,
same variable) replaces the base's, in its place (Compose's "unicity").

Works on interpolated raw values (before ``normalize_service``): either form of a key (short or
long syntax) may meet the other. It must never read a file. A shape Compose cannot merge (a
mapping over a list) raises ``MergeError`` naming the key path.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

from controller.sources.loader.issues import render_path
from controller.sources.loader.yamlmarks import KeyPath

_T = TypeVar("_T")


class MergeError(Exception):
    """Two values Compose cannot merge; ``path`` is where."""

    def __init__(self, path: KeyPath, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{render_path(path)}: {message}")


def merge_documents(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` merged onto ``base`` (neither is changed), as ``-f base -f override``."""
    merged = _merge(copy.deepcopy(base), copy.deepcopy(override), ())
    return merged if isinstance(merged, dict) else {}


def merge_service(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A service ``override`` that ``extends`` the service ``base`` (compose-go's
    ``ExtendService``: the same rules, at a service's key paths)."""
    merged = _merge(copy.deepcopy(base), copy.deepcopy(override), ("services", "x"))
    return merged if isinstance(merged, dict) else {}


def go_text(value: Any) -> str:
    """A scalar as Go's ``%v`` prints it (``true``, ``1.5``): how a mapping entry becomes
    ``KEY=VALUE`` in Compose's merge."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value)) if abs(value) < 1e6 else f"{value:g}".replace("e+0", "e+")
    return str(value)


def _as_sequence(value: Any) -> list[Any]:
    """compose-go's ``convertIntoSequence``: a mapping as sorted ``KEY=VALUE`` entries."""
    if isinstance(value, dict):
        out: list[Any] = []
        for key, item in value.items():
            if item is None:
                out.append(key)
            elif isinstance(item, list):
                out.extend(f"{key}={go_text(v)}" for v in item)
            else:
                out.append(f"{key}={go_text(item)}")
        return sorted(out)
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [value]
    return []


def _as_mapping(value: Any, default: dict[str, Any] | None) -> dict[str, Any]:
    """compose-go's ``convertIntoMapping``: a list of names as a mapping of ``default``s."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {str(item): (dict(default) if default is not None else None) for item in value}
    return {}


def _to_sequence(base: Any, override: Any, path: KeyPath) -> Any:
    return _as_sequence(base) + _as_sequence(override)


def _replace(base: Any, override: Any, path: KeyPath) -> Any:
    return override


def _build(base: Any, override: Any, path: KeyPath) -> Any:
    def as_build(value: Any) -> dict[str, Any]:
        return {"context": value} if isinstance(value, str) else _as_mapping(value, None)

    return _mappings(as_build(base), as_build(override), path)


_STARTED = {"condition": "service_started", "required": True}


def _depends_on(base: Any, override: Any, path: KeyPath) -> Any:
    return _mappings(_as_mapping(base, _STARTED), _as_mapping(override, _STARTED), path)


def _networks(base: Any, override: Any, path: KeyPath) -> Any:
    return _mappings(_as_mapping(base, None), _as_mapping(override, None), path)


def _logging(base: Any, override: Any, path: KeyPath) -> Any:
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override if override is not None else base
    if "driver" not in base or "driver" not in override or base["driver"] == override["driver"]:
        return _mappings(base, override, path)
    return override


def _extra_hosts(base: Any, override: Any, path: KeyPath) -> Any:
    kept = _as_sequence(base)
    return kept + [v for v in _as_sequence(override) if v not in kept]


def _ulimit(base: Any, override: Any, path: KeyPath) -> Any:
    return override  # compose-go merges the override with itself: the override wins whole


_SPECIALS: dict[str, Callable[[Any, Any, KeyPath], Any]] = {
    "networks.*.labels": _to_sequence,
    "volumes.*.labels": _to_sequence,
    "services.*.annotations": _to_sequence,
    "services.*.build": _build,
    "services.*.build.args": _to_sequence,
    "services.*.build.additional_contexts": _to_sequence,
    "services.*.build.extra_hosts": _extra_hosts,
    "services.*.build.labels": _to_sequence,
    "services.*.command": _replace,
    "services.*.depends_on": _depends_on,
    "services.*.deploy.labels": _to_sequence,
    "services.*.dns": _to_sequence,
    "services.*.dns_opt": _to_sequence,
    "services.*.dns_search": _to_sequence,
    "services.*.entrypoint": _replace,
    "services.*.env_file": _to_sequence,
    "services.*.label_file": _to_sequence,
    "services.*.environment": _to_sequence,
    "services.*.extra_hosts": _extra_hosts,
    "services.*.healthcheck.test": _replace,
    "services.*.labels": _to_sequence,
    "services.*.volumes.*.volume.labels": _to_sequence,
    "services.*.logging": _logging,
    "services.*.models": _networks,
    "services.*.networks": _networks,
    "services.*.sysctls": _to_sequence,
    "services.*.tmpfs": _to_sequence,
    "services.*.ulimits.*": _ulimit,
}


def _matches(pattern: str, path: KeyPath) -> bool:
    """Whether a key path matches a dotted pattern, ``*`` standing for any one key (a service
    name may hold a dot: the path is compared part by part, never as text)."""
    parts = pattern.split(".")
    return len(parts) == len(path) and all(
        p == "*" or p == key for p, key in zip(parts, path, strict=True)
    )


def _find(table: dict[str, _T], path: KeyPath) -> _T | None:
    if not path or path[0] not in ("services", "networks", "volumes"):
        return None
    return next((value for pattern, value in table.items() if _matches(pattern, path)), None)


def _special(path: KeyPath) -> Callable[[Any, Any, KeyPath], Any] | None:
    return _find(_SPECIALS, path)


def _merge(base: Any, override: Any, path: KeyPath) -> Any:
    special = _special(path)
    if special is not None:
        return _unique(special(base, override, path), path)
    if override is None:
        return base
    if isinstance(base, dict):
        if not isinstance(override, dict):
            raise MergeError(path, "cannot override a mapping with a value of another kind")
        return _mappings(base, override, path)
    if isinstance(base, list):
        if not isinstance(override, list):
            raise MergeError(path, "cannot override a list with a value of another kind")
        return _unique(base + override, path)
    return override


def _mappings(base: dict[str, Any], override: dict[str, Any], path: KeyPath) -> dict[str, Any]:
    for key, value in override.items():
        if key in base:
            base[key] = _merge(base[key], value, (*path, key))
        else:
            base[key] = value
    return base


# -- unicity: an entry defined again replaces the first, in its place ------------------------


def _key_value(entry: Any) -> str:
    return str(entry).partition("=")[0] if isinstance(entry, str) else repr(entry)


def _volume_target(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("target"))
    parts = str(entry).split(":")
    return parts[0] if len(parts) == 1 else parts[1]


def _port(entry: Any) -> str:
    if isinstance(entry, dict):
        host = entry.get("host_ip") or "0.0.0.0"
        protocol = entry.get("protocol") or "tcp"
        published = entry.get("published")
        published = "" if published is None else go_text(published)
        return f"{host}:{published}:{go_text(entry.get('target'))}/{protocol}"
    text = go_text(entry)
    spec, _, protocol = text.partition("/")
    parts = spec.rsplit(":", 2)
    target = parts[-1]
    published = parts[-2] if len(parts) > 1 else ""
    host = parts[0] if len(parts) > 2 else "0.0.0.0"
    return f"{host.strip('[]') or '0.0.0.0'}:{published}:{target}/{protocol or 'tcp'}"


def _mount(default: str) -> Callable[[Any], str]:
    def key(entry: Any) -> str:
        if isinstance(entry, dict):
            return str(entry["target"]) if "target" in entry else f"{default}/{entry.get('source')}"
        return f"{default}/{entry}"

    return key


def _env_file(entry: Any) -> str:
    return str(entry.get("path")) if isinstance(entry, dict) else str(entry)


def _device(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("target"))
    parts = str(entry).split(":")
    return parts[0] if len(parts) == 1 else parts[1]


_UNIQUE: dict[str, Callable[[Any], str]] = {
    "networks.*.labels": _key_value,
    "networks.*.ipam.options": _key_value,
    "services.*.annotations": _key_value,
    "services.*.build.args": _key_value,
    "services.*.build.additional_contexts": _key_value,
    "services.*.build.platform": _key_value,
    "services.*.build.tags": _key_value,
    "services.*.build.labels": _key_value,
    "services.*.cap_add": _key_value,
    "services.*.cap_drop": _key_value,
    "services.*.configs": _mount(""),
    "services.*.deploy.labels": _key_value,
    "services.*.dns": _key_value,
    "services.*.dns_opt": _key_value,
    "services.*.dns_search": _key_value,
    "services.*.environment": _key_value,
    "services.*.env_file": _env_file,
    "services.*.expose": go_text,
    "services.*.labels": _key_value,
    "services.*.links": _key_value,
    "services.*.networks.*.aliases": _key_value,
    "services.*.networks.*.link_local_ips": _key_value,
    "services.*.ports": _port,
    "services.*.profiles": _key_value,
    "services.*.secrets": _mount("/run/secrets"),
    "services.*.sysctls": _key_value,
    "services.*.tmpfs": _key_value,
    "services.*.volumes": _volume_target,
    "services.*.devices": _device,
}


def _unique(value: Any, path: KeyPath) -> Any:
    if not isinstance(value, list):
        return value
    key = _find(_UNIQUE, path)
    if key is None:
        return value
    out: list[Any] = []
    where: dict[str, int] = {}
    for entry in value:
        index = where.get(key(entry))
        if index is None:
            where[key(entry)] = len(out)
            out.append(entry)
        else:
            out[index] = entry
    return out
