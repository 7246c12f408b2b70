"""The values every layer passes around: pydantic models and their enums.

Models hold data and validate it; they never touch the database, the engine or the files.
Timestamps are timezone-aware UTC: a naive ``datetime`` given by a caller is taken as UTC.

The names below are loaded on first use (PEP 562): ``from controller.models import Stack``
works as usual, while ``controller.models.enums`` alone loads no pydantic, so that the command
line starts quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from controller.models.command import Command, CommandLog
    from controller.models.enums import (
        CommandStatus,
        CommandType,
        HealthStatus,
        LogLevel,
        Suspension,
        SyncStatus,
        VersionStatus,
    )
    from controller.models.event import Event
    from controller.models.repository import FetchStatus, Repository
    from controller.models.stack import Stack
    from controller.models.stack_version import (
        ComposeDefinition,
        StackMetadata,
        StackVersion,
        VersionHead,
        VersionOrigin,
    )

_HOMES = {
    "Command": "command",
    "CommandLog": "command",
    "CommandStatus": "enums",
    "CommandType": "enums",
    "ComposeDefinition": "stack_version",
    "Event": "event",
    "FetchStatus": "repository",
    "HealthStatus": "enums",
    "LogLevel": "enums",
    "Repository": "repository",
    "Stack": "stack",
    "StackMetadata": "stack_version",
    "StackVersion": "stack_version",
    "Suspension": "enums",
    "SyncStatus": "enums",
    "VersionHead": "stack_version",
    "VersionOrigin": "stack_version",
    "VersionStatus": "enums",
}

__all__ = [
    "Command",
    "CommandLog",
    "CommandStatus",
    "CommandType",
    "ComposeDefinition",
    "Event",
    "FetchStatus",
    "HealthStatus",
    "LogLevel",
    "Repository",
    "Stack",
    "StackMetadata",
    "StackVersion",
    "Suspension",
    "SyncStatus",
    "VersionHead",
    "VersionOrigin",
    "VersionStatus",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
