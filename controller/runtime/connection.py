"""``LazyClient``: a docker-py client made on first use, once, for every thread.

A controller started while the engine is down keeps running and asks again at the next use;
a failure to connect leaves as the project's error (``translate``), never docker-py's.

Without a spec (or for ``local`` without a host) it connects like the docker CLI
(``DOCKER_HOST`` or the local socket). With one, to its ``host``: ``unix://``, or ``tcp://``
with the spec's TLS files (the engine's CA verified, the client certificate presented). The
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

import threading

import docker
import requests
from docker.tls import TLSConfig

from controller.desired.engines import EngineSpec
from controller.runtime.errors import translate
from controller.runtime.ssh_transport import VerifiedSshAdapter


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

    def get(self) -> docker.DockerClient:
        if self._client is None:
            with self._connecting:
                if self._client is None:
                    try:
                        self._client = connect(self._spec, timeout=self._timeout)
                    except (docker.errors.DockerException, requests.RequestException) as e:
                        where = f" {self._spec.describe()}" if self._spec else ""
                        raise translate(e, doing=f"connecting to the Docker engine{where}") from e
        return self._client


def connect(spec: EngineSpec | None, *, timeout: int) -> docker.DockerClient:
    """A client for ``spec``'s engine (``None`` or a host-less ``local``: as the docker CLI)."""
    if spec is None or spec.host is None:
        return docker.from_env(timeout=timeout)
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
