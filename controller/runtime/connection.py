"""``LazyClient``: a docker-py client made on first use, once, for every thread.

A controller started while the engine is down keeps running and asks again at the next use;
a failure to connect leaves as the project's error (``translate``), never docker-py's.

Without a spec (or for ``local`` without a host) it connects like the docker CLI
(``DOCKER_HOST`` or the local socket). With one, to its ``host``: ``unix://``, or ``tcp://``
with the spec's TLS files (the engine's CA verified, the client certificate presented). The
client ignores ``REQUESTS_CA_BUNDLE`` and proxies from the environment (``trust_env`` off):
docker-py's TLS breaks when that variable names another CA (docker/docker-py#2433), and an
engine is never reached through an HTTP proxy.
"""

from __future__ import annotations

import threading

import docker
import requests
from docker.tls import TLSConfig

from controller.desired.engines import EngineSpec
from controller.runtime.errors import translate


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
