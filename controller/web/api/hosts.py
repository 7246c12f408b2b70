"""``HostPolicy`` and ``HostCheck``: the API and the console answer only the ``Host`` names they
are served as; any other is 400 before a route runs (DNS rebinding).

A page on another site can re-point its own name at 127.0.0.1 and then read, from the
browser's point of view on its own origin, whatever the controller answers there (with no
token the reads are open; versions hold resolved environment values). Its requests carry its
name in ``Host``: refusing unknown names ends the attack whatever the token rule. Answered:
the bound address, ``localhost`` and the loopback addresses, the host of ``--public-url`` and
the ``--allowed-host`` names (``*.example.com`` for subdomains, ``*`` for any). Bound to every
interface (``0.0.0.0``, ``::``), every IP literal is answered too: the machine's addresses are
many and change, and an address is never a rebinding name (the page's origin would be that
address, so the browser gives it nothing of another origin).

Starlette's ``TrustedHostMiddleware`` matches names only (not "any address"), and answers in
plain text; this one answers in the API's JSON shape and names what to do.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_BINDS = ("", "0.0.0.0", "::")  # every interface

# An --allowed-host name (lower case, no port).
_NAME = re.compile(r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?")
# A Host header: host[:port], host a name/IPv4 (no userinfo, no path) or a bracketed IPv6.
_HOST = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d{1,5})?")


@dataclass(frozen=True)
class HostPolicy:
    """The names answered (lower case, IPv6 in brackets; ``*.x`` for subdomains of x), and
    whether any IP literal is (bound to every interface)."""

    names: frozenset[str]
    any_address: bool = False

    @classmethod
    def served_as(
        cls, *, bind: str, public_url: str | None = None, allowed: Iterable[str] = ()
    ) -> HostPolicy:
        """The policy of a controller bound to ``bind`` and reached at ``public_url``."""
        names = {*LOOPBACK, *(check_pattern(name) for name in allowed)}
        wildcard = bind.strip("[]") in WILDCARD_BINDS
        if not wildcard:
            names.add(_normal(bind))
        if public_url:
            host = urlsplit(public_url).hostname
            if host:
                names.add(_normal(host))
        return cls(frozenset(names), any_address=wildcard)

    def answers(self, host_header: str | None) -> bool:
        if "*" in self.names:
            return True
        match = _HOST.fullmatch(host_header or "")
        if match is None:
            return False
        host = match["host"].lower().rstrip(".")  # `localhost.` is `localhost`
        if host in self.names:
            return True
        if self.any_address and _is_address(host):
            return True
        return any(n.startswith("*.") and host.endswith(n[1:]) for n in self.names)


def check_pattern(name: str) -> str:
    """An ``--allowed-host`` value, normalized; ``ValueError`` saying why it cannot match."""
    if name.strip() == "*":
        return "*"
    normal = _normal(name)
    bare = normal.removeprefix("*.")
    valid = _is_address(bare) if bare.startswith("[") else bool(_NAME.fullmatch(bare))
    if not valid:
        raise ValueError(
            f"{name!r} is not a host name (example.com), an address (10.0.0.5, ::1),"
            " *.example.com or * (no port, no scheme)"
        )
    return normal


def _normal(name: str) -> str:
    """``::1`` and ``[::1]`` alike (a Host header brackets an IPv6 address), lower case."""
    name = name.strip().lower().rstrip(".")
    if ":" in name and not name.startswith("["):
        return f"[{name}]"
    return name


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return host.startswith("[") == (":" in host)  # an IPv6 address only in brackets


class HostCheck:
    """ASGI middleware: requests (HTTP and websocket) whose ``Host`` the policy does not answer
    get 400 ``{"message": ...}``; lifespan events pass."""

    def __init__(self, app: ASGIApp, *, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = Headers(scope=scope).get("host")
            if not self.policy.answers(host):
                message = (
                    f"this controller is not served as {host!r}: add the name with"
                    " --allowed-host (STACKCTL_ALLOWED_HOSTS) if it is one of its names"
                )
                await JSONResponse({"message": message}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)
