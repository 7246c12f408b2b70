"""Service ``ports`` and ``expose``: short syntax parsed and expanded into the long form.

Short syntax: ``[HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTOCOL]`` (IPv6 host IPs
in brackets), given as a string or a number. A container range expands into one entry per
port (paired with an equally long host range, if any); a single container port with a host
range keeps the range as ``published``, as Compose does. Entries are sorted so that their
order carries no meaning. This module must never look beyond the value it is given.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any

from pydantic import ValidationError

from controller.desired.compose import Port
from controller.sources.loader.context import (
    ComposeContext,
    scalar_str,
    type_name,
    without_extensions,
)
from controller.sources.loader.yamlmarks import KeyPath

_RANGE = re.compile(r"([0-9]+)(?:-([0-9]+))?")
_PROTOCOLS = ("tcp", "udp", "sctp")
_LONG_KEYS = {"target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"}


class PortError(ValueError):
    pass


def _range(text: str, what: str) -> tuple[int, int]:
    match = _RANGE.fullmatch(text)
    if not match:
        raise PortError(f"invalid {what} port {text!r}")
    start = int(match.group(1))
    end = int(match.group(2) or start)
    if not 1 <= start <= end <= 65535:
        raise PortError(f"{what} port {text!r} is out of range 1-65535")
    return start, end


@functools.lru_cache(maxsize=1024)  # `ipaddress` is slow, and stacks repeat their host IPs
def host_ip_problem(text: str) -> str | None:
    """Why ``text`` is not a host IP the engine can bind (IPv4, or IPv6 without a zone), or
    None; an empty one means every interface."""
    if not text:
        return None
    if "%" in text:
        return f"host IP `{text}` is not an IP address the engine binds (no `%zone`)"
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return f"host IP `{text}` is not an IP address"
    return None


def parse_port(text: str) -> list[dict[str, Any]]:
    """One short-syntax entry -> long-form dicts."""
    spec, _, protocol = text.partition("/")
    protocol = protocol or "tcp"
    if protocol not in _PROTOCOLS:
        raise PortError(f"unknown protocol {protocol!r} (tcp, udp or sctp)")
    host_ip: str | None = None
    if spec.startswith("["):
        close = spec.find("]:")
        if close < 0:
            raise PortError(f"invalid IPv6 host address in {text!r}")
        host_ip, spec = spec[1:close], spec[close + 2 :]
    parts = spec.split(":")
    if len(parts) > 3 or (host_ip is not None and len(parts) > 2):
        raise PortError(f"invalid port {text!r}")
    if len(parts) == 3:
        host_ip, parts = parts[0], parts[1:]
    problem = host_ip_problem(host_ip or "")
    if problem is not None:
        raise PortError(problem)
    published = parts[0] if len(parts) == 2 else ""
    first, last = _range(parts[-1], "container")
    base = {"host_ip": host_ip or None, "protocol": protocol}
    if not published:
        return [{**base, "target": port} for port in range(first, last + 1)]
    pub_first, pub_last = _range(published, "published")
    if first == last:
        value = str(pub_first) if pub_first == pub_last else f"{pub_first}-{pub_last}"
        return [{**base, "target": first, "published": value}]
    if pub_last - pub_first != last - first:
        raise PortError(f"host range {published} and container range {parts[-1]} differ in size")
    return [
        {**base, "target": first + k, "published": str(pub_first + k)}
        for k in range(last - first + 1)
    ]


def _long_port(
    ctx: ComposeContext, value: dict[str, Any], *, path: KeyPath
) -> dict[str, Any] | None:
    entry = without_extensions(value)
    unknown = sorted(set(entry) - _LONG_KEYS)
    for key in unknown:
        ctx.issues.error((*path, key), "unknown key")
    if unknown:
        return None
    if "published" in entry and entry["published"] is not None:
        published = str(scalar_str(entry["published"]))
        try:
            start, end = _range(published, "published")
        except PortError as e:
            ctx.issues.error((*path, "published"), str(e))
            return None
        entry["published"] = str(start) if start == end else f"{start}-{end}"
    if entry.get("host_ip") == "":
        entry["host_ip"] = None
    problem = host_ip_problem(entry["host_ip"]) if isinstance(entry.get("host_ip"), str) else None
    if problem is not None:
        ctx.issues.error((*path, "host_ip"), problem)
        return None
    return entry


def normalize_ports(ctx: ComposeContext, value: Any, *, path: KeyPath) -> list[Port] | None:
    if not isinstance(value, list):
        ctx.issues.error(path, f"expected a list, got {type_name(value)}")
        return None
    out: list[Port] = []
    for i, item in enumerate(value):
        entries: list[dict[str, Any]] = []
        if isinstance(item, dict):
            entry = _long_port(ctx, item, path=(*path, i))
            entries = [entry] if entry is not None else []
        elif isinstance(item, str | int) and not isinstance(item, bool):
            try:
                entries = parse_port(str(item))
            except PortError as e:
                ctx.issues.error((*path, i), str(e))
        else:
            ctx.issues.error(
                (*path, i), f"expected a port string or mapping, got {type_name(item)}"
            )
        for entry in entries:
            try:
                out.append(Port.model_validate(entry))
            except ValidationError as e:
                ctx.issues.validation_errors(e, base=(*path, i))
    # Validated per item first, so errors name the index as written; sorted after.
    return sorted(out, key=_sort_key)


def _sort_key(port: Port) -> tuple[int, str, str, str, str]:
    return (port.target, port.protocol, port.host_ip or "", port.published or "", port.mode)


def normalize_expose(ctx: ComposeContext, value: Any, *, path: KeyPath) -> list[str] | None:
    """``expose`` entries as ``PORT[-END]/PROTOCOL``, sorted and unique."""
    if not isinstance(value, list):
        ctx.issues.error(path, f"expected a list, got {type_name(value)}")
        return None
    out: set[str] = set()
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, str | int):
            ctx.issues.error((*path, i), f"expected a port, got {type_name(item)}")
            continue
        spec, _, protocol = str(item).partition("/")
        protocol = protocol or "tcp"
        try:
            if protocol not in _PROTOCOLS:
                raise PortError(f"unknown protocol {protocol!r} (tcp, udp or sctp)")
            start, end = _range(spec, "exposed")
        except PortError as e:
            ctx.issues.error((*path, i), str(e))
            continue
        out.add(f"{start}/{protocol}" if start == end else f"{start}-{end}/{protocol}")
    return sorted(out)
