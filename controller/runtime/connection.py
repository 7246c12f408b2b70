"""``LazyClient``: a docker-py client made on first use, once, for every thread.

A controller started while the engine is down keeps running and asks again at the next use;
a failure to connect leaves as the project's error (``translate``), never docker-py's.
"""

from __future__ import annotations

import threading

import docker

from controller.runtime.errors import translate


class LazyClient:
    def __init__(self, client: docker.DockerClient | None = None, *, timeout: int) -> None:
        self._client = client
        self._timeout = timeout
        self._connecting = threading.Lock()

    def get(self) -> docker.DockerClient:
        if self._client is None:
            with self._connecting:
                if self._client is None:
                    try:
                        self._client = docker.from_env(timeout=self._timeout)
                    except docker.errors.DockerException as e:
                        raise translate(e, doing="connecting to the Docker engine") from e
        return self._client
