"""``healthcheck``, ``deploy``, ``develop`` and the ``post_start``/``pre_stop`` hooks as
compose-go v2.9.1 decodes them: each a table of its Go struct's fields (in declaration
order) and how each is converted. A key the table does not know raises ``NoView``.

Go's rules kept here: a pointer field (``retries``, ``delay`` of a restart policy) is printed
even when zero, a plain one only when set; ``deploy.resources`` and ``deploy.placement`` are
struct values, always printed (``{}``); ``develop.watch[].exec`` likewise (``{"command":
null}``); ``deploy.replicas`` is left out, as Compose's hash drops it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from controller.sources.loader.compose_view import fields as f
from controller.sources.loader.compose_view.gotext import NoView, duration, shell_words
from controller.sources.loader.compose_view.mounts import host_path

Table = dict[str, Callable[[Any], Any]]


def _pointer(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A pointer field: kept whenever written, zero included."""
    return lambda value: None if value is None else _PointerValue(convert(value))


class _PointerValue:
    def __init__(self, value: Any) -> None:
        self.value = value


def struct(value: Any, table: Table, *, what: str) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise NoView(f"{what}: expected a mapping")
    for key in value:
        if key not in table and not key.startswith("x-"):
            raise NoView(f"{what}: key `{key}` is not reproduced")
    out = {}
    for key, convert in table.items():
        converted = convert(value.get(key)) if key in value else _default(convert)
        if isinstance(converted, _PointerValue):
            out[key] = converted.value
        elif converted not in (None, "", [], {}) or isinstance(converted, _Always):
            out[key] = dict(converted) if isinstance(converted, _Always) else converted
    return out


class _Always(dict):  # type: ignore[type-arg]
    """A struct value Go always prints."""


def _default(convert: Callable[[Any], Any]) -> Any:
    return convert(None) if getattr(convert, "always", False) else None


def _always(table: Table, what: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> _Always:
        return _Always(struct(value, table, what=what))

    convert.always = True  # type: ignore[attr-defined]
    return convert


def command(value: Any) -> list[str] | None:
    """``ShellCommand``: a string split as go-shellwords does, a list kept."""
    if value is None:
        return None
    if isinstance(value, str):
        return shell_words(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise NoView(f"{value!r} is not a command Compose reads")


def _test(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return ["CMD-SHELL", value]
    return f.strings(value) if value is not None else None


HEALTHCHECK: Table = {
    "test": _test,
    "timeout": _pointer(duration),
    "interval": _pointer(duration),
    "retries": _pointer(int),
    "start_period": _pointer(duration),
    "start_interval": _pointer(duration),
    "disable": f.flag,
}


def _count(value: Any) -> int | None:
    return -1 if value == "all" else f.integer(value)


def _devices(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        raise NoView("devices: expected a list")
    out = []
    for item in value:
        entry = dict(item) if isinstance(item, dict) else item
        if isinstance(entry, dict) and "count" not in entry and "device_ids" not in entry:
            entry["count"] = "all"
        out.append(struct(entry, DEVICE_REQUEST, what="device request"))
    return out or None


DEVICE_REQUEST: Table = {
    "capabilities": f.strings,
    "driver": f.text,
    "count": _count,
    "device_ids": f.strings,
    "options": f.mapping,
}
RESOURCE: Table = {
    "cpus": f.number32,
    "memory": f.size,
    "pids": f.integer,
    "devices": _devices,
}


def _resource(value: Any) -> Any:
    return None if value is None else _PointerValue(struct(value, RESOURCE, what="resources"))


RESOURCES: Table = {"limits": _resource, "reservations": _resource}
RESTART_POLICY: Table = {
    "condition": f.text,
    "delay": _pointer(duration),
    "max_attempts": _pointer(int),
    "window": _pointer(duration),
}
UPDATE_CONFIG: Table = {
    "parallelism": _pointer(int),
    "delay": f.go_duration,
    "failure_action": f.text,
    "monitor": f.go_duration,
    "max_failure_ratio": f.number32,
    "order": f.text,
}


def _preferences(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        raise NoView("placement.preferences: expected a list")
    table: Table = {"spread": f.text}
    return [struct(item, table, what="placement preference") for item in value] or None


PLACEMENT: Table = {
    "constraints": f.strings,
    "preferences": _preferences,
    "max_replicas_per_node": f.integer,
}


def _sub(table: Table, what: str) -> Callable[[Any], Any]:
    return lambda value: None if value is None else _PointerValue(struct(value, table, what=what))


DEPLOY: Table = {
    "mode": f.text,
    "replicas": lambda value: None,  # dropped by Compose's hash
    "labels": f.mapping,
    "update_config": _sub(UPDATE_CONFIG, "update_config"),
    "rollback_config": _sub(UPDATE_CONFIG, "rollback_config"),
    "resources": _always(RESOURCES, "resources"),
    "restart_policy": _sub(RESTART_POLICY, "restart_policy"),
    "placement": _always(PLACEMENT, "placement"),
    "endpoint_mode": f.text,
}
HOOK: Table = {
    "command": command,
    "user": f.text,
    "privileged": f.flag,
    "working_dir": f.text,
    "environment": lambda value: f.mapping(value, empty=None),
}


def hooks(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        raise NoView("hooks: expected a list")
    out = []
    for item in value:
        hook = struct(item, HOOK, what="hook")
        out.append({"command": hook.pop("command", None), **hook})
    return out or None


def develop(value: Any, *, base: str) -> dict[str, Any] | None:
    """``develop.watch``: each ``path`` kept relative to the stack's folder (``host_path``)."""
    table: Table = {"watch": lambda watch: _watch(watch, base=base)}
    return struct(value, table, what="develop")


def _watch(value: Any, *, base: str) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        raise NoView("develop.watch: expected a list")
    table: Table = {
        "path": lambda path: _PointerValue(host_path(f.text(path) or "", base=base)),
        "action": lambda action: _PointerValue(f.text(action)),
        "target": f.text,
        "exec": _always({**HOOK}, "develop.watch.exec"),
        "include": f.strings,
        "ignore": f.strings,
        "initial_sync": f.flag,
    }
    out = []
    for item in value:
        trigger = struct(item, table, what="develop.watch")
        trigger["exec"] = {"command": trigger["exec"].pop("command", None), **trigger["exec"]}
        out.append(trigger)
    return out or None
