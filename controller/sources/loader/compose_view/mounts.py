"""``ports``, ``expose``, ``volumes`` and ``tmpfs`` as compose-go v2.9.1 expands them.

Short syntaxes become the long form Compose keeps (ports get ``mode: ingress`` and ``protocol:
tcp``, ordered as ``nat.ParsePortSpecs`` sorts them: by the text of ``PORT/PROTOCOL``; short
binds get ``bind: {create_host_path: true}``, short volumes ``volume: {}``); a later entry for
the same port or target replaces the earlier one in its place (``override.EnforceUnicity``).
Relative bind sources are kept relative to the stack's folder (see ``host_path``).
"""

from __future__ import annotations

import posixpath
from typing import Any

from controller.sources.loader.compose_view.gotext import NoView, sprint
from controller.sources.loader.ports import PortError, parse_port
from controller.sources.loader.units import parse_bytes

_PROPAGATIONS = frozenset({"rprivate", "private", "rshared", "shared", "rslave", "slave"})
_PORT_KEYS = ("name", "mode", "host_ip", "target", "published", "protocol", "app_protocol")


def unique(items: list[Any], key: Any) -> list[Any]:
    """``override.EnforceUnicity``: a repeated key replaces the first entry, in its place."""
    out: list[Any] = []
    where: dict[Any, int] = {}
    for item in items:
        k = key(item)
        if k in where:
            out[where[k]] = item
        else:
            where[k] = len(out)
            out.append(item)
    return out


def host_path(path: str, *, base: str) -> str:
    """A host path as the view keeps it: absolute or ``~`` as written; relative ones joined to
    ``base`` (the compose file's folder relative to the stack's folder) and cleaned."""
    if path.startswith(("/", "~")):
        return path
    return posixpath.normpath(posixpath.join(base, path))


def ports(value: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for item in _list(value, "ports"):
        if isinstance(item, dict):
            entries.append(_long_port(item))
        elif isinstance(item, str | int) and not isinstance(item, bool):
            entries.extend(_short_ports(str(item)))
        else:
            raise NoView(f"ports: {item!r} is neither a port string nor a mapping")
    return unique(entries, _port_key)


def _short_ports(text: str) -> list[dict[str, Any]]:
    try:
        parsed = parse_port(text)
    except PortError as e:
        raise NoView(f"ports: {e}") from None
    out = []
    for entry in sorted(parsed, key=lambda e: f"{e['target']}/{e['protocol']}"):
        port = {"mode": "ingress", "host_ip": entry.get("host_ip"), "target": entry["target"]}
        port.update(published=entry.get("published"), protocol=entry["protocol"])
        out.append({k: v for k, v in port.items() if v})
    return out


def _long_port(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"mode": "ingress", "protocol": "tcp"}
    for key, value in item.items():
        if key.startswith("x-"):
            continue
        if key not in _PORT_KEYS:
            raise NoView(f"ports: key `{key}` is not reproduced")
        if key == "target":
            out[key] = int(value)
        elif value is not None:
            out[key] = sprint(value)
    return {k: out[k] for k in _PORT_KEYS if out.get(k) not in (None, "")}


def _port_key(port: dict[str, Any]) -> tuple[Any, ...]:
    return (port.get("host_ip"), port.get("published"), port["target"], port["protocol"])


def expose(value: Any) -> list[str]:
    return unique([sprint(item) for item in _list(value, "expose")], lambda e: e)


def tmpfs(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else _list(value, "tmpfs")
    return unique([sprint(item) for item in items], lambda e: e.partition("=")[0])


def volumes(value: Any, *, base: str) -> list[dict[str, Any]]:
    out = []
    for item in _list(value, "volumes"):
        if isinstance(item, str):
            out.append(_short_volume(item))
        elif isinstance(item, dict):
            out.append(_long_volume(item))
        else:
            raise NoView(f"volumes: {item!r} is neither a string nor a mapping")
    out = unique(out, lambda v: v.get("target"))
    for entry in out:
        entry["target"] = posixpath.normpath(entry["target"]) if entry.get("target") else ""
        if entry.get("type") == "bind" and isinstance(entry.get("source"), str):
            entry["source"] = host_path(entry["source"], base=base)
    return out


def _short_volume(text: str) -> dict[str, Any]:
    parts = text.split(":")
    if len(text) <= 2 or len(parts) == 1:
        entry: dict[str, Any] = {"type": "volume", "target": text}
        return entry if len(text) <= 2 else {**entry, "volume": {}}
    if len(parts) > 3 or not all(parts):
        raise NoView(f"volumes: {text!r} is not a volume Compose reads")
    entry = {"type": "volume", "source": parts[0], "target": parts[1]}
    bind: dict[str, Any] = {}
    volume: dict[str, Any] = {}
    for option in parts[2].split(",") if len(parts) == 3 else []:
        if option in ("ro", "rw"):
            entry["read_only"] = option == "ro"
        elif option == "nocopy":
            volume = {"nocopy": True}
        elif option in _PROPAGATIONS:
            bind["propagation"] = option
        elif option in ("z", "Z"):
            bind["selinux"] = option
    if parts[0].startswith((".", "/", "~")):
        entry.update(type="bind", bind={**bind, "create_host_path": True})
    else:
        entry["volume"] = volume
        if bind:
            entry["bind"] = bind
    if not entry.get("read_only"):
        entry.pop("read_only", None)
    return _ordered(entry)


_VOLUME_KEYS = ("type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs")


def _long_volume(item: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for key, value in item.items():
        if key.startswith("x-"):
            continue
        if key not in _VOLUME_KEYS:
            raise NoView(f"volumes: key `{key}` is not reproduced")
        if key in ("bind", "volume", "tmpfs"):
            entry[key] = _options(key, value)
        elif key == "read_only":
            if value is True:
                entry[key] = True
        elif value not in (None, ""):
            entry[key] = sprint(value)
    return _ordered(entry)


def _options(kind: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise NoView(f"volumes: `{kind}` is not a mapping")
    options = {k: v for k, v in value.items() if not k.startswith("x-")}
    if kind == "tmpfs" and options.get("size") is not None:
        try:
            options["size"] = parse_bytes(options["size"])
        except ValueError as e:
            raise NoView(f"volumes: tmpfs size: {e}") from None
    if kind == "tmpfs" and isinstance(options.get("mode"), str):
        options["mode"] = int(options["mode"], 8)
    if kind == "volume" and "labels" in options:
        raise NoView("volumes: `volume.labels` is not reproduced")
    return {k: v for k, v in options.items() if v not in (None, "", False, 0)}


def _ordered(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in _VOLUME_KEYS if k in entry}


def _list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise NoView(f"{key}: expected a list")
    return value
