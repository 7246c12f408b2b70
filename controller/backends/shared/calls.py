"""``EngineConnection``: one engine's connection and its counted calls, shared by every backend
that talks to a Docker API (a Docker engine, a Swarm manager).

Every call goes through ``_call``, which counts it (mutating calls apart: ``MUTATING``),
translates docker-py's errors (``translate``), and keeps a remote engine's circuit (``circuit``);
for a swarm with several managers, a call that finds the one in use unreachable makes the next
call connect through another (``LazyClient.unreachable``).
"""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from controller.backends.shared.circuit import Circuit
from controller.backends.shared.connection import LazyClient
from controller.backends.shared.translate import translate
from controller.desired.engine_spec import LOCAL, EngineSpec
from controller.models.errors import TransientError

if TYPE_CHECKING:  # docker-py loads when a call needs it (docker.plain_reads)
    import docker

T = TypeVar("T")

MUTATING = frozenset(
    {
        "create_network",
        "create_volume",
        "pull",
        "build",
        "create_container",
        "put_archive",
        "start",
        "stop",
        "remove_container",
        "rename",
        "remove_network",
        "remove_volume",
        "connect_network",
        # Swarm (swarm.engine)
        "create_secret",
        "create_config",
        "create_service",
        "update_service",
        "remove_service",
        "remove_secret",
        "remove_config",
    }
)


@dataclass
class EngineCalls:
    """Counts of engine calls by operation; ``mutating`` sums the ones that change something."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, operation: str) -> None:
        with self.lock:
            self.counts[operation] += 1

    @property
    def mutating(self) -> int:
        return sum(n for op, n in self.counts.items() if op in MUTATING)

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()


class EngineConnection:
    """One engine's connection. Connects like the docker CLI does (``DOCKER_HOST`` or the
    local socket) without a spec; with one, to that named engine
    (``controller.desired.engine_spec``)."""

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        *,
        timeout: int = 120,
        spec: EngineSpec | None = None,
    ) -> None:
        """Connects on first use, not here: a controller started while the engine is down
        keeps running, and its commands retry until the engine answers."""
        self.spec = spec or EngineSpec(name=LOCAL)
        self._client = LazyClient(client, timeout=timeout, spec=spec)
        self.calls = EngineCalls()
        # A remote engine found unreachable is not asked again for a while (runtime.circuit).
        self._circuit = Circuit(self.spec.name) if self.spec.remote else None
        self._reads = None if client is not None else self._plain_reads(timeout)

    def _plain_reads(self, timeout: int) -> Any:
        """The engine's read calls without docker-py (``docker.plain_reads``), for an engine
        reached as the docker CLI reaches it over a unix socket; else ``None``."""
        if self.spec.host is not None or self.spec.remote:
            return None
        from controller.backends.docker.plain_api import local_socket
        from controller.backends.docker.plain_reads import PlainReads

        socket_path = local_socket(os.environ)
        if socket_path is None:
            return None
        return PlainReads(socket_path, timeout=timeout, api=lambda: self._client.get().api)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def _api(self) -> docker.APIClient:
        if self._reads is not None:
            return self._reads  # type: ignore[no-any-return]
        if self._circuit is None:
            return self._client.get().api
        self._circuit.check()
        try:
            return self._client.get().api
        except TransientError as e:  # could not connect
            self._circuit.trip(str(e))
            raise

    def _call(
        self, operation: str, doing: str, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        self.calls.add(operation)
        try:
            result = fn(*args, **kwargs)
        except Exception as e:
            error = translate(e, doing=doing)
            # A swarm with other managers goes on through the next one (runtime.connection):
            # its circuit opens only once connecting finds that none answers.
            moved = _unreachable(e) and self._client.unreachable(getattr(fn, "__self__", None))
            if self._circuit is not None and _unreachable(e) and not moved:
                self._circuit.trip(str(error))
            raise error from e
        if self._circuit is not None:
            self._circuit.close()
        return result

    def ping(self) -> None:
        self._call("ping", "asking the engine", self._api.ping)


def _unreachable(error: BaseException) -> bool:
    """No answer at all (no connection, a timeout), not an engine answering with an error."""
    if isinstance(error, TimeoutError):  # a plain read (docker.plain_reads) not answered
        return True
    requests = sys.modules.get("requests")  # not loaded: no requests error can exist
    return requests is not None and isinstance(
        error, requests.exceptions.ConnectionError | requests.exceptions.Timeout
    )
