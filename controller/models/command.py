"""Commands (the durable queue's items) and their log lines."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from controller.models.enums import CommandStatus, CommandType, LogLevel
from controller.models.timestamps import UtcDateTime, utc_now


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
    attempts: int = Field(default=0, ge=0)  # tries started: each claim, as the log shows them
    failures: int = Field(default=0, ge=0)  # attempts that failed (not the interrupted ones)
    not_before: UtcDateTime | None = None
    worker_id: str | None = None
    lease_expires_at: UtcDateTime | None = None
    error: str | None = None
    cancel_requested: str | None = None  # why a RUNNING command was asked to stop


class CommandLog(BaseModel):
    log_id: int | None = None
    command_id: int
    ts: UtcDateTime = Field(default_factory=utc_now)
    level: LogLevel = LogLevel.INFO
    message: str
    data: dict[str, Any] | None = None
