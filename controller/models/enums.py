"""The models' enums, in a module that needs no pydantic: the CLI declares its options with
them (``--status``, ``--type``) and must start without loading the models."""

from __future__ import annotations

from enum import StrEnum


class CommandType(StrEnum):
    APPLY_STACK_VERSION = "APPLY_STACK_VERSION"
    DELETE_STACK = "DELETE_STACK"
    RECONCILE = "RECONCILE"


class CommandStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
    SUPERSEDED = "SUPERSEDED"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.SUPERSEDED, CommandStatus.CANCELLED}
)

# The only status changes that make sense; anything else is refused.
ALLOWED_TRANSITIONS: dict[CommandStatus, frozenset[CommandStatus]] = {
    CommandStatus.PENDING: frozenset(
        {CommandStatus.RUNNING, CommandStatus.SUPERSEDED, CommandStatus.CANCELLED}
    ),
    CommandStatus.RUNNING: frozenset(
        {CommandStatus.DONE, CommandStatus.FAILED, CommandStatus.PENDING, CommandStatus.CANCELLED}
    ),
    **{status: frozenset() for status in TERMINAL_STATUSES},
}


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class SyncStatus(StrEnum):
    SYNCED = "Synced"
    OUT_OF_SYNC = "OutOfSync"
    UNKNOWN = "Unknown"
    # What a suspended stack reads as (``controller.db.suspension``): nobody compares it with
    # the engine while it is suspended. Never stored: the row keeps what was last observed.
    SUSPENDED = "Suspended"


class HealthStatus(StrEnum):
    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"
    MISSING = "Missing"
    SUSPENDED = "Suspended"
    UNKNOWN = "Unknown"


class Suspension(StrEnum):
    """Who holds a stack suspended; both read alike (suspended, sync and health Suspended)."""

    OPERATOR = "operator"  # `stackctl suspend` (the stack's flag): `stackctl resume` lifts it
    MANIFEST = "manifest"  # `spec.suspend: true` in its desired version: its manifest lifts it


class VersionStatus(StrEnum):
    PENDING = "PENDING"  # recorded, not yet applied
    APPLYING = "APPLYING"
    APPLIED = "APPLIED"
    FAILED = "FAILED"
