"""IP addresses and subnets where the engine parses them: ``extra_hosts``, a network's IPAM
pools, a service's fixed addresses on a network.

The engine reads them with Go's ``net.ParseIP`` and ``ParseCIDR`` only when it creates the
container or the network; these checks refuse what it would refuse, when loading. Like Go,
they take no IPv6 zone (``%eth0``) and no IPv4 part with a leading zero. A YAML number
(``.nan``, ``5``) is no address: refused before pydantic would turn it into text. Values are
checked as written, never rewritten (a bracketed ``[::1]`` stays so), so that the digest of a
stack that loaded before stays the same. This module must never look beyond the value given.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from controller.sources.loader.context import ComposeContext, string_list, type_name
from controller.sources.loader.yamlmarks import KeyPath

HOST_GATEWAY = "host-gateway"  # the engine writes the host's gateway address in its place
_POOL_NETWORKS = ("subnet", "ip_range")
_POOL_ADDRESSES = ("gateway",)


def address_problem(value: Any, *, version: int | None = None) -> str | None:
    """Why ``value`` is not an IP address (of ``version``, if given), or None."""
    what = f"an IPv{version} address" if version else "an IP address"
    if not isinstance(value, str):
        return f"expected {what}, got {type_name(value)}"
    if "%" in value:
        return f"`{value}` is not {what} the engine takes (no `%zone`)"
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return f"`{value}` is not {what}"
    if version and address.version != version:
        return f"`{value}` is not {what}"
    return None


def network_problem(value: Any) -> str | None:
    """Why ``value`` is not a network in CIDR notation, or None."""
    what = "a network in CIDR notation such as 172.28.0.0/16"
    if not isinstance(value, str):
        return f"expected {what}, got {type_name(value)}"
    try:
        if "%" in value or "/" not in value:
            raise ValueError(value)
        ipaddress.ip_network(value, strict=False)  # host bits set: the engine masks them
    except ValueError:
        return f"`{value}` is not {what}"
    return None


def check_ipam_pool(ctx: ComposeContext, pool: dict[str, Any], *, path: KeyPath) -> bool:
    """One ``ipam.config`` entry: ``subnet`` and ``ip_range`` are CIDR networks, ``gateway``
    and each ``aux_addresses`` value an IP address inside the subnet (an empty value, an
    unset variable, is none, as in Compose). False after reporting."""
    ok = True
    for key in (*_POOL_NETWORKS, *_POOL_ADDRESSES):
        value = pool.get(key)
        if value is None or value == "":
            continue
        problem = network_problem(value) if key in _POOL_NETWORKS else address_problem(value)
        if problem:
            ctx.issues.error((*path, key), problem)
            ok = False
    aux = pool.get("aux_addresses")
    if isinstance(aux, dict):
        for name, value in aux.items():
            problem = address_problem(value)
            if problem:
                ctx.issues.error((*path, "aux_addresses", name), problem)
                ok = False
    return ok and _inside_subnet(ctx, pool, path=path)


def _inside_subnet(ctx: ComposeContext, pool: dict[str, Any], *, path: KeyPath) -> bool:
    """The range and the addresses of a pool whose values all parsed lie in its subnet: the
    engine refuses a gateway outside it when it creates the network."""
    if not pool.get("subnet"):
        return True
    subnet = ipaddress.ip_network(pool["subnet"], strict=False)
    ok = True
    if pool.get("ip_range"):
        ip_range = ipaddress.ip_network(pool["ip_range"], strict=False)
        if ip_range.version != subnet.version or not ip_range.subnet_of(subnet):
            ctx.issues.error((*path, "ip_range"), _outside(pool["ip_range"], pool["subnet"]))
            ok = False
    aux = pool.get("aux_addresses") or {}
    addresses = [(("gateway",), pool.get("gateway"))]
    addresses += [(("aux_addresses", name), value) for name, value in aux.items()]
    for where, value in addresses:
        if value and ipaddress.ip_address(value) not in subnet:  # another version: not in
            ctx.issues.error((*path, *where), _outside(value, pool["subnet"]))
            ok = False
    return ok


def _outside(value: str, subnet: str) -> str:
    return f"`{value}` is not in the subnet `{subnet}`"


def check_fixed_addresses(ctx: ComposeContext, settings: dict[str, Any], *, path: KeyPath) -> bool:
    """A service's ``ipv4_address``/``ipv6_address`` on one network. False after reporting."""
    ok = True
    for key, version in (("ipv4_address", 4), ("ipv6_address", 6)):
        value = settings.get(key)
        if value is None or value == "":
            continue
        problem = address_problem(value, version=version)
        if problem:
            ctx.issues.error((*path, key), problem)
            ok = False
    return ok


def extra_host_problem(text: str) -> str | None:
    """Why one address of ``extra_hosts`` is neither an IP address (brackets and surrounding
    blanks allowed, as the engine allows them) nor ``host-gateway``, or None."""
    if text == HOST_GATEWAY:
        return None
    inner = text[1:-1] if len(text) > 2 and text[0] == "[" and text[-1] == "]" else text
    problem = address_problem(inner.strip())
    return f"{problem}, nor `{HOST_GATEWAY}`" if problem else None


def extra_hosts(ctx: ComposeContext, value: Any, *, path: KeyPath) -> dict[str, list[str]] | None:
    """``["host:ip", "host=ip", "host=ip,ip"]`` or ``{host: ip | [ip, ...]}`` ->
    ``{host: [ip, ...]}``; a comma list is one entry per address, as Compose reads it."""
    if isinstance(value, dict):
        out = _mapping_hosts(ctx, value, path=path)
    elif isinstance(value, list):
        out = _listed_hosts(ctx, value, path=path)
    else:
        ctx.issues.error(path, f"expected a list or a mapping, got {type_name(value)}")
        return None
    return None if out is None else {host: list(dict.fromkeys(ips)) for host, ips in out.items()}


def _mapping_hosts(
    ctx: ComposeContext, value: dict[str, Any], *, path: KeyPath
) -> dict[str, list[str]] | None:
    out: dict[str, list[str]] = {}
    ok = True
    for host, ips in value.items():
        where = (*path, host)
        found = string_list(ctx, ips, path=where)
        if found is None or not _check_host(ctx, host, path=where):
            ok = False
            continue
        for i, ip in enumerate(found):
            problem = extra_host_problem(ip)
            if problem:
                ctx.issues.error((*where, i) if isinstance(ips, list) else where, problem)
                ok = False
        out.setdefault(host, []).extend(found)
    return out if ok else None


def _listed_hosts(
    ctx: ComposeContext, value: list[Any], *, path: KeyPath
) -> dict[str, list[str]] | None:
    out: dict[str, list[str]] = {}
    ok = True
    for i, item in enumerate(value):
        text = item if isinstance(item, str) else ""
        host, found, ips = text.partition("=" if "=" in text else ":")
        if not host or not found or not ips:
            ctx.issues.error((*path, i), f"expected `HOST:IP` or `HOST=IP`, got {type_name(item)}")
            ok = False
            continue
        problem = next(filter(None, map(extra_host_problem, ips.split(","))), None)
        if problem:
            ctx.issues.error((*path, i), problem)
        if problem or not _check_host(ctx, host, path=(*path, i)):
            ok = False
            continue
        out.setdefault(host, []).extend(ips.split(","))
    return out if ok else None


def _check_host(ctx: ComposeContext, host: str, *, path: KeyPath) -> bool:
    # Compose refuses these: the engine would split `a:b:1.2.3.4` elsewhere than meant.
    if not host or ":" in host or "=" in host:
        ctx.issues.error(path, f"bad host name {host!r}: no `:` or `=` in it")
        return False
    return True
