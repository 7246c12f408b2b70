"""``EngineBackend``: the container calls a container engine gives the Docker executor.

The Docker planner decides with plain values; the executor (``docker.executor``) carries
decisions out through these calls only, so an engine that provides them converges stacks the
same way: the Docker engine of ``engine.Engine`` (local, over TLS or over SSH) and the in-memory
``controller.backends.memory.engine.MemoryEngine``. What the rest of the controller asks of any
backend (a Swarm's too) is ``controller.backends.interface.Backend``; the contract suites
(``tests/engines/test_engine_contract_on_every_backend.py`` on the container engines,
``tests/engines/test_backend_interface_contract.py`` on every backend) keep them alike.

Rules every engine keeps: only objects labelled as the stack's are seen or touched; every
call is counted in ``calls`` (``calls.mutating``: the ones that change something, so an
unchanged stack is asserted to cost zero); errors leave as ``TransientError`` (retry) or
``PermanentError`` (stop), the backend's own chained.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from controller.backends.docker.fleet import Fleet
    from controller.backends.docker.observing import EngineCalls
    from controller.desired import DesiredStack
    from controller.desired.engine_spec import EngineSpec
    from controller.models.observed import ObservedContainer, Snapshot


@runtime_checkable
class EngineBackend(Protocol):
    spec: EngineSpec
    calls: EngineCalls

    @property
    def name(self) -> str: ...

    # -- observing (read-only) ----------------------------------------------------------------
    def ping(self) -> None: ...

    def observe(
        self,
        stack: str,
        *,
        images: list[str] = ...,
        names: list[str] = ...,
        by_name: bool = ...,
        reuse: Snapshot | None = ...,
    ) -> Snapshot: ...

    def observe_fleet(self) -> Fleet: ...

    def image_id(self, ref: str) -> str | None: ...

    def container_state(self, name_or_id: str) -> ObservedContainer | None: ...

    def owner(self, container: str) -> str | None: ...

    # -- networks, volumes, images ------------------------------------------------------------
    def create_network(self, desired: DesiredStack, key: str) -> None: ...

    def remove_network(self, name: str) -> None: ...

    def create_volume(self, desired: DesiredStack, key: str) -> None: ...

    def remove_volume(self, name: str) -> None: ...

    def pull(self, ref: str) -> None: ...

    def build(self, desired: DesiredStack, service_name: str, *, ref: str, root: Path) -> None: ...

    # -- containers ---------------------------------------------------------------------------
    def create_container(
        self,
        desired: DesiredStack,
        *,
        service: str,
        number: int,
        name: str,
        image: str,
        root: Path,
        files_dir: Path,
        version: str | None,
        image_id: str | None = ...,
    ) -> str: ...

    def start(self, container: str) -> None: ...

    def stop(self, container: str, *, timeout: int | None = None) -> None: ...

    def remove_container(self, container: str) -> None: ...

    def stop_and_remove(self, container: str) -> None: ...

    def rename(self, container: str, name: str) -> None: ...

    def wait_gone(self, container: str, *, timeout: float = ...) -> None: ...
