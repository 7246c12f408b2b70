"""Which followed repository a push webhook is about: its URLs and ref against a repository's
URL and ref. Pure; ``controller.sources.git.webhooks`` reads the push, this module only compares.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import unquote, urlsplit

_COMMIT = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")  # SHA-1 or SHA-256 repositories
_SCP = re.compile(r"(?:[^@/]+@)?(\[[^\]/]+\]|[^:/\[\]]+):(.*)")  # git@host:org/repo.git
_DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22, "git+ssh": 22, "ssh+git": 22, "git": 9418}


class HasUrls(Protocol):
    """A push, verified or not: the repository URLs its payload names."""

    @property
    def urls(self) -> Sequence[str]: ...


def repository_matches(spec_url: str, push: HasUrls) -> bool:
    """The source's URL names the pushed repository, whatever the transport: scheme, userinfo,
    default ports, ``.git``, trailing ``/`` and letter case are ignored. Case because GitHub,
    Gitea and GitLab all resolve owner/name case-insensitively; a wrong match costs one fetch."""
    wanted = _repository_key(spec_url)
    return wanted is not None and any(_repository_key(url) == wanted for url in push.urls)


def ref_matches(spec_ref: str, push_ref: str) -> bool:
    """The source follows the pushed ref, read the way the fetcher resolves ``spec.ref``: a full
    ref matches itself, ``main`` matches ``refs/heads/main`` and ``v1`` ``refs/tags/v1``. A full
    commit id never moves, so every push is to another ref."""
    if _COMMIT.fullmatch(spec_ref):
        return False
    if spec_ref.startswith("refs/"):
        return push_ref == spec_ref
    return push_ref in (f"refs/heads/{spec_ref}", f"refs/tags/{spec_ref}")


def _repository_key(url: str) -> tuple[str, str] | None:
    """(host[:port], path) as compared; None for what names no remote repository."""
    url = url.strip()
    if "://" in url:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return None
        host = (parts.hostname or "").lower()
        if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
            host = f"{host}:{port}"
        path = unquote(parts.path)
    else:
        scp = _SCP.fullmatch(url)
        if scp is None:
            return None  # a local path: no webhook is about one
        host, path = scp.group(1).strip("[]").lower(), scp.group(2)
    path = path.strip("/").removesuffix(".git").rstrip("/")
    if not host or not path:
        return None
    return host, path.casefold()
