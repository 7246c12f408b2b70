"""``Engines``: the controller's engines by name, each a ``Backend`` connected on first use.

This is the one place that chooses a backend by its kind (``BACKENDS``: ``kind`` in the engines
file -> the engine class); everything else holds a ``controller.backends.interface.Backend``.
``local`` always exists. A stack runs on the engine its ``spec.target`` names
(``DesiredStack.engine``); a name no ``--engines`` file declares is a ``PermanentError`` that
says which names exist, so its command fails with that reason instead of retrying.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from controller.backends.interface import Backend
from controller.desired import DesiredStack
from controller.desired.engine_spec import LOCAL, EngineSpec
from controller.models.errors import PermanentError

AnyEngine = Backend

# ``kind`` in the engines file -> the module and class that run it: imported when an engine of
# that kind is made (docker-py with it), never by ``cannot_run`` (``stackctl validate``).
BACKENDS: dict[str, tuple[str, str]] = {
    "docker": ("controller.backends.docker.engine", "Engine"),
    "swarm": ("controller.backends.swarm.engine", "SwarmEngine"),
}


def backend_class(spec: EngineSpec) -> Any:
    """The engine class of ``spec``'s kind (a plain Docker engine unless it says otherwise)."""
    return _engine_class(spec.kind)


def _engine_class(kind: str) -> Any:
    module, name = BACKENDS.get(kind, BACKENDS["docker"])
    return getattr(importlib.import_module(module), name)


def cannot_run(desired: DesiredStack, spec: EngineSpec) -> list[str]:
    """What an engine like ``spec`` cannot carry out of ``desired`` (pure: ``validate``); the
    backends' own pure checks, the same as their classes' ``cannot_run``, with no engine's
    client loaded."""
    if spec.kind == "swarm":
        from controller.backends.swarm.planner.service_spec import swarm_problems

        return swarm_problems(desired)
    from controller.backends.docker.problems import container_problems

    return container_problems(desired, spec)


class Engines:
    def __init__(
        self,
        specs: Mapping[str, EngineSpec] | None = None,
        *,
        local: Backend | None = None,
        timeout: int = 120,
    ) -> None:
        """``local``: the engine named ``local`` when the caller has one already (tests,
        the CLI); the others are made from ``specs``."""
        specs = dict(specs or {})
        self._engines: dict[str, Backend] = {}
        for name, spec in specs.items():
            if name == LOCAL and local is not None:
                continue
            self._engines[name] = backend_class(spec)(spec=spec, timeout=timeout)
        if LOCAL not in self._engines:
            self._engines[LOCAL] = local or _engine_class("docker")(timeout=timeout)
        self._engines = dict(sorted(self._engines.items(), key=lambda kv: kv[0] != LOCAL))

    @classmethod
    def of(cls, engine: Backend | Engines) -> Engines:
        """``engine`` as the only engine (named ``local``), or the set as it is."""
        return engine if isinstance(engine, Engines) else cls(local=engine)

    @property
    def local(self) -> Backend:
        return self._engines[LOCAL]

    def get(self, name: str) -> Backend:
        found = self._engines.get(name)
        if found is None:
            declared = ", ".join(self._engines)
            raise PermanentError(
                f"engine {name!r} is not declared (declared: {declared}; add it to the"
                " --engines file)"
            )
        return found

    def names(self) -> list[str]:
        return list(self._engines)

    def __iter__(self) -> Iterator[Backend]:
        return iter(self._engines.values())

    def __len__(self) -> int:
        return len(self._engines)
