"""Where stacks run: the named engines a controller converges (``EngineSpec``), and the engine a
stack asks for (``Target``).

An engine is a Docker engine reached at ``host`` (``unix://``, ``tcp://`` with TLS, or
``ssh://user@host[:port]``, its host key checked against a known_hosts file) or, with
``kind: swarm``, a Swarm reached through one of its managers: ``host`` may then be a list of
addresses (``hosts``), tried in order, all sharing the engine's ``tls``/``ssh`` settings.
The engine named ``local`` always exists: the one ``DOCKER_HOST`` (or the local socket) names,
as before engines existed. Plain values, validated here once: the runtime builds clients from
them and never wonders whether a TLS engine lacks its key. No file is read here (TLS files are
named by path and read by the runtime when it connects, and so are the SSH files).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

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
    # The (first) address; None: DOCKER_HOST, else the local socket (only `local`).
    host: str | None = None
    # Every address in order: (host,) for one; a swarm's managers when `host` is a list. Callers
    # that know one address read `host`; the runtime connects to the first of these that answers.
    hosts: tuple[str, ...] = ()
    tls: TlsFiles | None = None
    ssh: SshFiles | None = None
    # Parallel commands on this engine at most (a slow engine never takes every worker).
    # Most commands running on it at once (the queue's claim); None: only --workers bounds it
    concurrency: int | None = Field(default=None, ge=1, le=64)

    @model_validator(mode="before")
    @classmethod
    def _addresses(cls, data: Any) -> Any:
        """``host`` as one address or a list of them (``hosts``), either given: ``host`` is then
        the first and ``hosts`` all of them."""
        if not isinstance(data, dict):
            return data
        host, hosts = data.get("host"), data.get("hosts")
        if isinstance(host, list | tuple) and hosts is None:
            first = host[0] if host and isinstance(host[0], str) else None
            return {**data, "host": first, "hosts": tuple(host)}
        if isinstance(host, str) and hosts is None:
            return {**data, "hosts": (host,)}
        if host is None and isinstance(hosts, list | tuple) and hosts:
            return {**data, "host": hosts[0] if isinstance(hosts[0], str) else None}
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problem = engine_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if not value:
            raise ValueError("host: an address, or for kind: swarm a list of at least one")
        if len(value) > 1 and info.data.get("kind") != "swarm":
            raise ValueError(
                "a list of addresses is for kind: swarm only (its managers); a Docker engine"
                " has one host"
            )
        for number, address in enumerate(value, start=1):
            problem = _address_problem(address)
            if problem:
                raise ValueError(
                    problem if len(value) == 1 else f"{problem} (address {number} of {len(value)})"
                )
        if len({address.split("://")[0] for address in value}) > 1:
            raise ValueError(
                "every address of an engine takes the same scheme (they share tls and ssh)"
            )
        if len(set(value)) < len(value):
            raise ValueError("an address is listed twice")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EngineSpec:
        if self.host is None and self.name != LOCAL:
            raise ValueError(f"engine {self.name!r} needs a host (only `local` may omit it)")
        if (self.hosts[:1] or (None,))[0] != self.host:
            raise ValueError("host must be the first of hosts")
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
        """``edge-1 (tcp://10.0.0.5:2376, TLS)``: for messages and ``describe``; a swarm with
        several managers lists them (``prod (tcp://a:2376 or tcp://b:2376, TLS, swarm)``)."""
        where = " or ".join(self.hosts) or "DOCKER_HOST or the local socket"
        extra = ", TLS" if self.tls else ""
        kind = "" if self.kind == "docker" else f", {self.kind}"  # a Docker engine: the default
        return f"{self.name} ({where}{extra}{kind})"


def _address_problem(value: str) -> str | None:
    """What is wrong with one engine address (``unix://``, ``tcp://``, ``ssh://user@host``)."""
    if not value.startswith(_SCHEMES):
        return f"host {value!r} must start with unix://, tcp:// or ssh:// (ssh://user@host)"
    if value.startswith("ssh://"):
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
        except ValueError as e:
            return f"host {value!r}: {e}"
        if not parts.hostname or parts.path not in ("", "/") or parts.query:
            return f"host {value!r} must be ssh://user@host or ssh://user@host:port"
    return None


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
