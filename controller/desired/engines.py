"""Where stacks run: the named engines a controller converges (``EngineSpec``), and the engine a
stack asks for (``Target``).

An engine is a Docker engine reached at ``host`` (``unix://``, ``tcp://`` with TLS, or
``ssh://user@host[:port]``, its host key checked against a known_hosts file) or, with
``kind: swarm``, a Swarm reached through one of its managers.
The engine named ``local`` always exists: the one ``DOCKER_HOST`` (or the local socket) names,
as before engines existed. Plain values, validated here once: the runtime builds clients from
them and never wonders whether a TLS engine lacks its key. No file is read here (TLS files are
named by path and read by the runtime when it connects, and so are the SSH files).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LOCAL = "local"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_SCHEMES = ("unix://", "tcp://", "ssh://", "npipe://")


def engine_name_problem(name: str) -> str | None:
    if _NAME.match(name):
        return None
    return (
        f"engine name {name!r} must be lowercase letters, digits, '-' or '_' (at most 63),"
        " starting with a letter or digit"
    )


class TlsFiles(BaseModel):
    """The client's TLS files for a ``tcp://`` engine: the CA that signed the engine's
    certificate, and the client certificate and key the engine asks for (``--tlsverify``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca: Path
    cert: Path
    key: Path


class SshFiles(BaseModel):
    """The client's files for an ``ssh://`` engine: ``known_hosts``, which must list the host's
    key (unset: ``~/.ssh/known_hosts``, resolved when connecting; a host it does not list is
    refused, never added), and ``identity``, the private key to log in with (unset: the keys
    in ``~/.ssh`` and the SSH agent, as ``ssh`` would try them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    known_hosts: Path | None = None
    identity: Path | None = None


class EngineSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["docker", "swarm"] = "docker"
    host: str | None = None  # None: DOCKER_HOST, else the local socket (only `local`)
    tls: TlsFiles | None = None
    ssh: SshFiles | None = None
    # Parallel commands on this engine at most (a slow engine never takes every worker).
    # Most commands running on it at once (the queue's claim); None: only --workers bounds it
    concurrency: int | None = Field(default=None, ge=1, le=64)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problem = engine_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(_SCHEMES):
            raise ValueError(
                f"host {value!r} must start with unix://, tcp:// or ssh:// (ssh://user@host)"
            )
        if value is not None and value.startswith("ssh://"):
            try:
                parts = urlsplit(value)
                parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
            except ValueError as e:
                raise ValueError(f"host {value!r}: {e}") from None
            if not parts.hostname or parts.path not in ("", "/") or parts.query:
                raise ValueError(f"host {value!r} must be ssh://user@host or ssh://user@host:port")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EngineSpec:
        if self.host is None and self.name != LOCAL:
            raise ValueError(f"engine {self.name!r} needs a host (only `local` may omit it)")
        if self.tls is not None and not (self.host or "").startswith("tcp://"):
            raise ValueError("tls is for tcp:// hosts only")
        if self.ssh is not None and not (self.host or "").startswith("ssh://"):
            raise ValueError("ssh is for ssh:// hosts only")
        return self

    @property
    def remote(self) -> bool:
        """Reached over the network: the controller's disk is not the engine's (secret and
        config files are copied into containers instead of bind-mounted)."""
        return (self.host or "").startswith(("tcp://", "ssh://"))

    def describe(self) -> str:
        """``edge-1 (tcp://10.0.0.5:2376, TLS)``: for messages and ``describe``."""
        where = self.host or "DOCKER_HOST or the local socket"
        extra = ", TLS" if self.tls else ""
        kind = ", swarm" if self.kind == "swarm" else ""
        return f"{self.name} ({where}{extra}{kind})"


class Target(BaseModel):
    """``spec.target`` of a Stack: the engine it runs on (default ``local``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: str = LOCAL

    @field_validator("engine")
    @classmethod
    def _engine(cls, value: str) -> str:
        problem = engine_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value
