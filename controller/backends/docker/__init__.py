"""The Docker backend: a stack as containers on a Docker engine (the only code with ``docker``
beside the Swarm backend's and ``shared``).

``Engine.observe`` returns a plain ``Snapshot`` of what the engine has for a stack (objects
labelled as the stack's, and nothing else); the planner (``planner``) decides, the executor
(``executor``) carries the plan out through the container calls of ``contract.EngineBackend``,
``health`` judges the result; ``backend.ContainerBackend`` gives them as the ``Backend``
interface (``controller.backends.interface``). docker-py's errors become ``TransientError`` /
``PermanentError`` (``shared.translate``), the original chained. Every engine call is counted
(``Engine.calls``), mutating ones apart, so tests can assert that an unchanged stack costs zero
mutating calls. Remote engines are reached in ``shared.connection`` (``tcp://`` with TLS;
``ssh://`` through ``shared.ssh_transport``, the host key checked against known_hosts).

The names below are loaded on first use (PEP 562), as in ``controller.db``: ``summaries`` and
``plain_api`` (what ``stackctl ps`` reads before typer, ``cli/quick.py``) import no docker-py.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from controller.backends.docker.contract import EngineBackend
    from controller.backends.docker.engine import Engine, EngineCalls

_HOMES = {"Engine": "engine", "EngineBackend": "contract", "EngineCalls": "engine"}

__all__ = ["Engine", "EngineBackend", "EngineCalls"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
