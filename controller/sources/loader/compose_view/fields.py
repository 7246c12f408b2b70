"""The service keys whose Compose form is a scalar, a list of strings or a mapping.

Each converter takes the raw (interpolated) value and returns what compose-go v2.9.1 keeps,
in the form ``docker compose config --format json`` prints it, or ``None`` when Go's
``omitempty`` leaves it out; it raises ``NoView`` for a value it cannot reproduce exactly.
"""

from __future__ import annotations

from typing import Any

from controller.sources.loader.compose_view.gotext import NoView, duration, float32, sprint
from controller.sources.loader.compose_view.mounts import unique
from controller.sources.loader.units import parse_bytes

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def text(value: Any) -> str | None:
    """A string field (``omitempty``): ints become their digits, as Compose's cast does."""
    if value is None or value == "":
        return None
    if isinstance(value, bool | float | dict | list):
        raise NoView(f"{value!r} where Compose wants a string")
    return str(value)


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _TRUE | _FALSE:
        return value in _TRUE
    raise NoView(f"{value!r} where Compose wants true or false")


def flag(value: Any) -> bool | None:
    """A ``bool`` field: only ``true`` is kept (``omitempty``)."""
    return True if value is not None and boolean(value) else None


def pointer_flag(value: Any) -> bool | None:
    """A ``*bool`` field (``init``, ``attach``): ``false`` is kept too."""
    return None if value is None else boolean(value)


def integer(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise NoView(f"{value!r} where Compose wants an integer")
    try:
        number = int(value)
    except ValueError:
        raise NoView(f"{value!r} where Compose wants an integer") from None
    return number or None


def number32(value: Any) -> float | None:
    return None if value is None else (float32(value) or None)


def size(value: Any) -> int | None:
    """A byte size (``UnitBytes``), in bytes."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value or None
    try:
        return parse_bytes(value) or None
    except ValueError as e:
        raise NoView(str(e)) from None


def go_duration(value: Any) -> str | None:
    return None if value is None else duration(value)


def strings(value: Any) -> list[str] | None:
    """A list of strings, a lone string counting as one (``dns``, ``StringList``)."""
    items = [value] if isinstance(value, str | int) else value
    if not isinstance(items, list):
        raise NoView(f"{value!r} where Compose wants a list")
    return [sprint(item) for item in items] or None


def keyed_strings(value: Any) -> list[str] | None:
    """A list whose ``KEY=...`` entries are unique by key (``cap_add``, ``links``, ``dns``)."""
    items = strings(value)
    return unique(items, lambda s: s.partition("=")[0]) if items else None


def dns(value: Any) -> list[str] | None:
    """``dns``: empty entries are dropped (``loader.OmitEmpty``)."""
    items = [v for v in ([value] if isinstance(value, str) else value or []) if v not in ("", None)]
    return keyed_strings(items) if items else None


def mapping(value: Any, *, empty: str | None = "") -> dict[str, str | None] | None:
    """A list-or-mapping of strings (``labels``, ``sysctls``, ``annotations``, options):
    ``KEY`` without a value is ``empty``; values are ``fmt.Sprint``-ed."""
    if isinstance(value, dict):
        pairs = {str(k): (empty if v is None else sprint(v)) for k, v in value.items()}
    elif isinstance(value, list):
        pairs = {}
        for item in value:
            key, sep, rest = sprint(item).partition("=")
            pairs[key] = rest if sep else empty
    elif value is None:
        return None
    else:
        raise NoView(f"{value!r} where Compose wants a list or a mapping")
    return pairs or None


def extra_hosts(value: Any) -> list[str] | None:
    """``HostsList``: ``host=ip`` or ``host:ip`` entries (or a mapping), sorted, brackets off."""
    hosts: dict[str, list[str]] = {}
    if isinstance(value, dict):
        for host, ips in value.items():
            listed = ips if isinstance(ips, list) else ["" if ips is None else ips]
            hosts[host] = [sprint(ip) for ip in listed]
    else:
        for item in strings(value) or []:
            for sep in ("=", ":"):
                host, found, ips = item.partition(sep)
                if found:
                    hosts.setdefault(host, []).extend(ips.split(","))
                    break
            else:
                raise NoView(f"extra_hosts: {item!r} has no IP address")
    out = []
    for host, ips in hosts.items():
        out.extend(f"{host}={_unbracketed(ip)}" for ip in ips)
    return sorted(out) or None


def _unbracketed(ip: str) -> str:
    return ip[1:-1] if len(ip) > 2 and ip[0] == "[" and ip[-1] == "]" else ip


def ulimits(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        raise NoView("ulimits: expected a mapping")
    out: dict[str, Any] = {}
    for name, limit in value.items():
        if isinstance(limit, int) and not isinstance(limit, bool):
            out[name] = limit if limit else {}
        elif isinstance(limit, dict):
            pair = {k: limit.get(k) for k in ("soft", "hard")}
            out[name] = {k: v for k, v in pair.items() if v}
        else:
            raise NoView(f"ulimits: {name}: {limit!r} is not a limit Compose reads")
    return out or None


def logging(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        raise NoView("logging: expected a mapping")
    out = {"driver": text(value.get("driver")), "options": mapping(value.get("options"))}
    return {k: v for k, v in out.items() if v is not None}


def file_refs(value: Any, *, secret: bool) -> list[dict[str, Any]] | None:
    """Service ``secrets``/``configs``: a name is ``{source}``; a secret's default target."""
    if not isinstance(value, list):
        raise NoView("secrets/configs: expected a list")
    out = []
    for item in value:
        entry = {"source": item} if isinstance(item, str) else item
        if not isinstance(entry, dict):
            raise NoView(f"secrets/configs: {item!r} is not a reference Compose reads")
        ref: dict[str, Any] = {"source": text(entry.get("source"))}
        ref["target"] = text(entry.get("target"))
        if secret and "target" not in entry:
            ref["target"] = f"/run/secrets/{entry.get('source')}"
        ref.update(uid=text(entry.get("uid")), gid=text(entry.get("gid")))
        ref["mode"] = _file_mode(entry.get("mode"))
        out.append({k: v for k, v in ref.items() if v is not None})
    default = "/run/secrets" if secret else ""
    return unique(out, lambda r: r.get("target") or f"{default}/{r['source']}") or None


def _file_mode(mode: Any) -> str | None:
    """``FileMode`` as Compose prints it: ``0`` and the octal digits (``0440``)."""
    if mode is None:
        return None
    if isinstance(mode, str):
        try:
            mode = int(mode, 8)
        except ValueError:
            raise NoView(f"mode {mode!r} is not an octal number") from None
    if isinstance(mode, bool) or not isinstance(mode, int):
        raise NoView(f"mode {mode!r} is not a number")
    return f"0{mode:o}"


_NETWORK_KEYS = {
    "aliases": "keyed",
    "driver_opts": "map",
    "gw_priority": "int",
    "interface_name": "text",
    "ipv4_address": "text",
    "ipv6_address": "text",
    "link_local_ips": "keyed",
    "mac_address": "text",
    "priority": "int",
}


def networks(value: Any) -> dict[str, Any] | None:
    """A list of names or a mapping; a name without settings is ``null``."""
    if isinstance(value, list):
        value = dict.fromkeys(sprint(name) for name in value)
    if not isinstance(value, dict):
        raise NoView("networks: expected a list or a mapping")
    out: dict[str, Any] = {}
    for name, settings in value.items():
        if settings is None:
            out[name] = None
            continue
        if not isinstance(settings, dict):
            raise NoView(f"networks: {name}: expected a mapping")
        out[name] = _network(name, settings)
    return out or {"default": None}


def _network(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    converters = {"keyed": keyed_strings, "map": mapping, "int": integer, "text": text}
    entry = {}
    for key, raw in settings.items():
        if key.startswith("x-"):
            continue
        if key not in _NETWORK_KEYS:
            raise NoView(f"networks: {name}: key `{key}` is not reproduced")
        converted = converters[_NETWORK_KEYS[key]](raw)
        if converted is not None:
            entry[key] = converted
    return {k: entry[k] for k in _NETWORK_KEYS if k in entry}
