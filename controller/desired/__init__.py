"""The desired-state model: what a stack should be, canonical and digested.

Where it sits in the flow: docs/architecture.md, "The flow".

``compose`` holds the canonical Compose project (one long form for every short syntax),
``stack`` the ``DesiredStack`` around it, ``digest`` the hashing (stack digest and the per-service
config hash the planner compares with container labels), ``names`` the naming rules both the
loader and the model enforce, and ``repository`` the ``RepositorySpec`` of a git repository
source (with the URL redaction every message uses).

Values only: this package never reads files, the environment, the database or the engine. The
source layer builds these values from files; the planner, the runtime, health and versions read
them. Keeping them out of ``source`` means those layers depend on the model, not on the loader.

The names below are loaded on first use (PEP 562), as in ``controller.db``: importing
``controller.desired.delivery`` or ``engine_spec`` (the database's events, the CLI's engine
targeting) does not build the Compose models, which is most of a one-shot read's start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from controller.desired.compose import (
        ComposeProject,
        Mount,
        Service,
        context_path,
        host_path,
    )
    from controller.desired.desired_stack import DesiredStack
    from controller.desired.digest import config_hash

_HOMES = {
    "ComposeProject": "compose",
    "DesiredStack": "desired_stack",
    "Mount": "compose",
    "Service": "compose",
    "config_hash": "digest",
    "context_path": "compose",
    "host_path": "compose",
}

__all__ = [
    "ComposeProject",
    "DesiredStack",
    "Mount",
    "Service",
    "config_hash",
    "context_path",
    "host_path",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
