"""``LazyClient``: a docker-py client made on first use, once, for every thread.

A controller started while the engine is down keeps running and asks again at the next use;
a failure to connect leaves as the project's error (``translate``), never docker-py's.

A swarm with several managers (``EngineSpec.hosts``) is reached through any of them: connecting
tries the addresses in order and keeps the first that answers. When a call through it finds it
unreachable, ``unreachable()`` forgets that client and the next use connects again starting at
the address after it, so a manager going down costs the one call that found it down (its
command retries) rather than every call until the circuit gives up on the whole swarm; only
when no address answers does the connection fail (and the engine's circuit open).

Without a spec (or for ``local`` without a host) it connects like the docker CLI
(``DOCKER_HOST`` or the local socket). With one, to its ``host``: ``unix://``, or ``tcp://``
with the spec's TLS files (the engine's CA verified, the client certificate presented). Every
client ignores ``REQUESTS_CA_BUNDLE`` and proxies from the environment (``trust_env`` off):
docker-py's TLS breaks when that variable names another CA (docker/docker-py#2433), and an
engine is never reached through an HTTP proxy.

``ssh://user@host[:port]`` (what docker-py 7.2 does, read in ``docker/transport/sshconn.py``):
every HTTP connection is an SSH channel running ``docker system dial-stdio`` on the remote
host, so the remote needs sshd, the docker CLI on the login's PATH and an engine that CLI
reaches for that user (``DOCKER_HOST`` or its default socket; the user in the ``docker``
group or root). docker-py has two clients for it:

- paramiko (the default): ``load_system_host_keys()`` (``~/.ssh/known_hosts`` only) and
  ``RejectPolicy``, so an unknown host is refused and a changed key raises
  ``BadHostKeyException``; it also reads ``~/.ssh/config`` (HostName, Port, User,
  IdentityFile, ProxyCommand). It takes no other known_hosts file nor a key (but that
  config's), it connects inside ``APIClient()``, before anything could be set, and its
  refusals are paramiko's exceptions, neither docker-py's nor requests'. It keys its pools
  by the whole URL, each keeping a channel open: past sshd's ``MaxSessions`` (10) a request
  fails with ``ChannelException`` (seen in the tests before ``VerifiedSshAdapter`` kept one).
- ``use_ssh_client=True``: runs ``ssh -l USER -p PORT -- HOST 'docker system dial-stdio'``
  with no ``-o`` options, so the host key check is whatever ssh_config says: OpenSSH's default
  ``StrictHostKeyChecking ask`` refuses an unknown key when no terminal can ask (tried against
  the tests' sshd: ``Host key verification failed.``) but asks on a controlling terminal, and
  ``accept-new`` or ``no`` in a config would trust it. No other known_hosts file nor key can
  be given, ssh's messages go to our stderr and the client only sees a closed pipe.

So for ``ssh://`` this module builds the client with ``use_ssh_client=True`` (its constructor
then connects to nothing) and mounts ``VerifiedSshAdapter`` (``ssh_transport``): paramiko
with the engine's ``ssh.known_hosts`` (default ``~/.ssh/known_hosts``) loaded as the only
trusted keys, a policy that rejects every other key, and ``ssh.identity`` as the only key
offered when set. ``trust_env`` is off as for TCP (no CA bundle is involved, but the
environment's proxies must not be either).
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from controller.backends.shared.translate import translate
from controller.desired.engine_spec import EngineSpec
from controller.models.errors import PermanentError, StackctlError, TransientError

if TYPE_CHECKING:  # docker-py loads when a client is made (an engine's reads may need none)
    import docker


class LazyClient:
    def __init__(
        self,
        client: docker.DockerClient | None = None,
        *,
        timeout: int,
        spec: EngineSpec | None = None,
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._spec = spec
        self._connecting = threading.Lock()
        self._addresses = spec.hosts if spec is not None else ()
        self._first = 0  # the address the next connection tries first
        self._using: int | None = None  # the address the client talks to

    @property
    def address(self) -> str | None:
        """The address the client talks to (``None`` before it connected, or for one it was
        given)."""
        return None if self._using is None else self._addresses[self._using]

    def get(self) -> docker.DockerClient:
        if self._client is None:
            with self._connecting:
                if self._client is None:
                    self._client = self._connect()
        return self._client

    def unreachable(self, api: object) -> bool:
        """A call made through ``api`` found its engine unreachable. With several addresses,
        forget that client (if it is still the one in use: another thread may have moved on
        already) so that the next use connects again starting at the next address, and say so
        (True): the caller leaves the circuit to that connection, which fails only when no
        address answers. With one address, nothing to do here (False)."""
        if len(self._addresses) < 2:
            return False
        with self._connecting:
            current = self._client
            if current is not None and (api is None or api is current.api):
                self._client = None
                self._first = ((self._using or 0) + 1) % len(self._addresses)
                self._using = None
                # Idle connections only: a request under way on another thread keeps its own.
                with contextlib.suppress(Exception):
                    current.close()
        return True

    def _connect(self) -> docker.DockerClient:
        import docker
        import requests

        if len(self._addresses) < 2:
            try:
                client = connect(self._spec, timeout=self._timeout)
            except (docker.errors.DockerException, requests.RequestException) as e:
                where = f" {self._spec.describe()}" if self._spec else ""
                raise translate(e, doing=f"connecting to the Docker engine{where}") from e
            self._using = 0 if self._addresses else None
            return client
        assert self._spec is not None
        count = len(self._addresses)
        failures: list[tuple[StackctlError, Exception]] = []
        for step in range(count):
            index = (self._first + step) % count
            address = self._addresses[index]
            at = self._spec.model_copy(update={"host": address, "hosts": (address,)})
            try:
                client = connect(at, timeout=self._timeout)
            except (docker.errors.DockerException, requests.RequestException, StackctlError) as e:
                failures.append((translate(e, doing=address), e))
                continue
            self._using = index
            return client
        transient = any(isinstance(error, TransientError) for error, _ in failures)
        kind = TransientError if transient else PermanentError
        said = "; ".join(str(error) for error, _ in failures)
        raise kind(
            f"connecting to the Docker engine {self._spec.describe()}: no address answers ({said})"
        ) from failures[-1][1]


def connect(spec: EngineSpec | None, *, timeout: int) -> docker.DockerClient:
    """A client for ``spec``'s engine (``None`` or a host-less ``local``: as the docker CLI)."""
    import docker
    from docker.tls import TLSConfig

    if spec is None or spec.host is None:
        client = docker.from_env(timeout=timeout)
        # As for a named engine; besides, requests reads the environment's proxies at every
        # request otherwise (about a tenth of a millisecond of CPU each, issue 27).
        client.api.trust_env = False
        return client
    if spec.host.startswith("ssh://"):
        return _over_ssh(spec, timeout=timeout)
    tls: TLSConfig | bool = False
    if spec.tls is not None:
        tls = TLSConfig(
            client_cert=(str(spec.tls.cert), str(spec.tls.key)),
            ca_cert=str(spec.tls.ca),
            verify=True,
        )
    # docker-py asks the engine for its API version inside the constructor, before trust_env
    # can be turned off: ask first with a client that ignores the environment.
    probe = docker.APIClient(
        base_url=spec.host,
        tls=tls,
        timeout=timeout,
        version=docker.constants.MINIMUM_DOCKER_API_VERSION,
    )
    probe.trust_env = False
    try:
        version = probe.version(api_version=False)["ApiVersion"]
    finally:
        probe.close()
    client = docker.DockerClient(base_url=spec.host, tls=tls, timeout=timeout, version=version)
    client.api.trust_env = False
    return client


def _over_ssh(spec: EngineSpec, *, timeout: int) -> docker.DockerClient:
    """A client whose requests go through one verified SSH connection (see the docstring)."""
    # paramiko loads here, for an ssh:// engine only (controller/backends/__init__.py).
    import docker

    from controller.backends.shared.ssh_transport import VerifiedSshAdapter

    adapter = VerifiedSshAdapter(spec, timeout=timeout)  # logs in, the host key checked

    def client(version: str) -> docker.DockerClient:
        made = docker.DockerClient(
            base_url=spec.host, use_ssh_client=True, timeout=timeout, version=version
        )
        made.api.trust_env = False
        made.api.mount("http+docker://ssh", adapter)  # replaces the ssh-binary adapter
        return made

    try:
        probe = client(docker.constants.MINIMUM_DOCKER_API_VERSION)
        return client(probe.version(api_version=False)["ApiVersion"])
    except BaseException:
        adapter.close()
        raise
