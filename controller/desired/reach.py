"""What a manifest may reach: the operator's policy (``Reach``) and its checks of a destination.

A manifest (a file of the watched directory, or of a repository's checkout) is less trusted
than the operator who starts the controller: it may name only the destinations the operator
allows with ``--notify-allow`` and only the files inside its own root or ``--secrets-dir``
(the file part is checked by ``controller.sources.loader.file_reach``, which can resolve paths). The
controller's own flags (``--notify``, ``--git-*``) are trusted and never checked here.

An allow pattern is one of:

- ``*``: any destination (except link-local and metadata addresses, see below);
- ``HOST`` (``hooks.internal``, ``10.0.0.7``, ``[fd00::1]``) or ``*.DOMAIN``: that host (or
  any name under that domain) on any port;
- ``HOST:PORT``: that host on that port (a URL without a port has its scheme's default);
- ``SCHEME://`` (``slack://``): every URL of that scheme (Apprise services whose "host" is a
  token, not an address);
- ``SCHEME://HOST[:PORT][/PATH]``: URLs of that scheme and host (and port) whose path starts
  with ``PATH``.

Link-local addresses (``169.254.0.0/16``, ``fe80::/10``) and the cloud metadata services'
addresses and names are refused unless a pattern names that very host (``*``, ``*.DOMAIN`` and
``SCHEME://`` do not). Everything here is literal: no name is resolved (the sender resolves at
send time, ``controller.delivery.notifications.destinations.check_reach``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

WEBHOOK = "webhook+"
# The metadata services of the clouds: AWS/GCP/Azure/OpenStack at 169.254.169.254 (link-local
# anyway), AWS's IPv6 one, Alibaba's, Oracle's, and the names that reach them.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "json": 80,
    "jsons": 443,
    "form": 80,
    "forms": 443,
    "xml": 80,
    "xmls": 443,
}


@dataclass(frozen=True)
class Reach:
    """The operator's policy for manifests: ``notify_allow`` (``--notify-allow`` patterns; none
    means a manifest may name no destination) and ``secrets_dir`` (``--secrets-dir``: a folder
    whose files any manifest may name, besides those inside its own root)."""

    notify_allow: tuple[str, ...] = ()
    secrets_dir: Path | None = None

    def destination_problem(self, url: str) -> str | None:
        """Why a manifest may not name ``url`` (a notification URL or a forge's API address),
        or ``None``."""
        scheme, host, port, path = _parts(url)
        shown = f"{scheme}://{_host_text(host, port)}"
        if is_guarded_host(host) and not self.names(host):
            return (
                f"{shown} is a link-local or cloud metadata address; refused unless the operator"
                f" allows it by name (--notify-allow {_host_text(host, None)})"
            )
        allowed = (
            _matches(p, scheme=scheme, host=host, port=port, path=path) for p in self.notify_allow
        )
        if any(allowed):
            return None
        if not self.notify_allow:
            return (
                f"{shown}: manifests may name no destination unless the operator allows it"
                f" (stackctl run --notify-allow {_host_text(host, None) or scheme + '://'})"
            )
        return f"{shown} is not in the operator's allow-list (--notify-allow)"

    def names(self, host: str) -> bool:
        """Whether a pattern names ``host`` itself (not through ``*`` or a wildcard)."""
        host = host.lower()
        for pattern in self.notify_allow:
            if "://" in pattern:
                named = (urlsplit(pattern).hostname or "").lower()
            else:
                named = _split_host_port(pattern)[0]
            if named == host:
                return True
        return False


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not an allow pattern (for ``--notify-allow``), or ``None``."""
    if not pattern or pattern != pattern.strip() or any(c.isspace() for c in pattern):
        return f"{pattern!r}: an allow pattern has no spaces"
    if "://" in pattern:
        parts = urlsplit(pattern)
        if not parts.scheme:
            return f"{pattern!r}: a URL pattern needs a scheme (e.g. https://host/path)"
        if parts.query or parts.fragment or parts.username or parts.password:
            return f"{pattern!r}: a URL pattern is SCHEME://HOST[:PORT][/PATH], nothing more"
        try:
            _ = parts.port
        except ValueError:
            return f"{pattern!r}: the port is not a number"
        return None
    if pattern == "*":
        return None
    host, port = _split_host_port(pattern)
    if not host or "/" in pattern or (port is not None and port < 0):
        return f"{pattern!r}: expected *, HOST, *.DOMAIN, HOST:PORT or SCHEME://HOST[:PORT][/PATH]"
    return None


def is_guarded_host(host: str) -> bool:
    """A link-local or metadata address or name, written literally (any IPv4 spelling)."""
    host = host.lower().rstrip(".")
    if host in METADATA_NAMES:
        return True
    address = literal_address(host)
    return address is not None and is_guarded_address(address)


def is_guarded_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_link_local or address in METADATA_ADDRESSES


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an address when it is one, in any spelling the C resolver accepts
    (``2852039166``, ``0xa9.254.169.254``), without resolving anything."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if not host or not all(c in "0123456789abcdefxABCDEFX." for c in host):
        return None
    import socket  # here: validate loads manifests without any network module

    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # parses only, no lookup
    except OSError:
        return None


def destination_host(url: str) -> tuple[str, int | None]:
    """The host (lower case) and port a URL (``webhook+`` unwrapped) names."""
    _, host, port, _ = _parts(url)
    return host, port


def _parts(url: str) -> tuple[str, str, int | None, str]:
    inner = url[len(WEBHOOK) :] if url.startswith(WEBHOOK) else url
    parts = urlsplit(inner)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port, parts.path or "/"


def _split_host_port(pattern: str) -> tuple[str, int | None]:
    text = pattern.lower()
    if text.startswith("["):  # [v6] or [v6]:port
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return host, int(port) if port.isdigit() else None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, int(port) if port.isdigit() else -1
    return text, None


def _matches(pattern: str, *, scheme: str, host: str, port: int | None, path: str) -> bool:
    if pattern == "*":
        return True
    if "://" in pattern:
        parts = urlsplit(pattern)
        if parts.scheme.lower() != scheme:
            return False
        if not parts.netloc:
            return True  # SCHEME://: every URL of that scheme
        if (parts.hostname or "").lower() != host:
            return False
        if parts.port is not None and parts.port != port:
            return False
        prefix = parts.path or "/"
        return path == prefix or path.startswith(prefix.rstrip("/") + "/")
    named, named_port = _split_host_port(pattern)
    if named_port is not None and named_port != port:
        return False
    if named.startswith("*."):
        return host.endswith(named[1:])
    return named == host


def _host_text(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port is not None else shown
