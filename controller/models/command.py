"""Commands (the durable queue's items) and their log lines."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from controller.models.timestamps import UtcDateTime, utc_now


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


class Command(BaseModel):
    """``command_id`` is assigned by the database on enqueue."""

    command_id: int | None = None
    stack_id: str = Field(min_length=1)
    type: CommandType
    payload: dict[str, Any] = Field(default_factory=dict)
    status: CommandStatus = CommandStatus.PENDING
    created_at: UtcDateTime = Field(default_factory=utc_now)
    started_at: UtcDateTime | None = None
    ended_at: UtcDateTime | None = None
    attempts: int = Field(default=0, ge=0)
    not_before: UtcDateTime | None = None
    worker_id: str | None = None
    lease_expires_at: UtcDateTime | None = None
    error: str | None = None


class CommandLog(BaseModel):
    log_id: int | None = None
    command_id: int
    ts: UtcDateTime = Field(default_factory=utc_now)
    level: LogLevel = LogLevel.INFO
    message: str
    data: dict[str, Any] | None = None
