"""The values every layer passes around: pydantic models and their enums.

Models hold data and validate it; they never touch the database, the engine or the files.
Timestamps are timezone-aware UTC: a naive ``datetime`` given by a caller is taken as UTC.
"""

from controller.models.command import Command, CommandLog, CommandStatus, CommandType, LogLevel
from controller.models.event import Event
from controller.models.stack import HealthStatus, Stack, SyncStatus
from controller.models.stack_version import (
    ComposeDefinition,
    StackMetadata,
    StackVersion,
    VersionStatus,
)

__all__ = [
    "Command",
    "CommandLog",
    "CommandStatus",
    "CommandType",
    "ComposeDefinition",
    "Event",
    "HealthStatus",
    "LogLevel",
    "Stack",
    "StackMetadata",
    "StackVersion",
    "SyncStatus",
    "VersionStatus",
]
