"""A stack: one Compose project under the controller's care, and its status (Argo CD style)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from controller.models.enums import HealthStatus, SyncStatus
from controller.models.timestamps import UtcDateTime, utc_now


class Stack(BaseModel):
    """``current_version`` is the desired version label (``v3``); ``applied_version`` the last one
    that converged."""

    model_config = ConfigDict(validate_assignment=True)

    stack_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    current_version: str | None = None
    applied_version: str | None = None
    sync_status: SyncStatus = SyncStatus.UNKNOWN
    health_status: HealthStatus = HealthStatus.UNKNOWN
    suspended: bool = False
    pinned: bool = False  # by a rollback: file changes are recorded, not applied, until resume
    last_error: str | None = None
    created_at: UtcDateTime = Field(default_factory=utc_now)
    updated_at: UtcDateTime = Field(default_factory=utc_now)

    @property
    def deleted(self) -> bool:
        """A deleted stack keeps its row (and its events) with no desired and no applied
        version; listings leave it out unless asked for all."""
        return self.current_version is None and self.applied_version is None


class ListedStack(Stack):
    """A stack as ``stackctl get stacks`` lists it: its fields and the engine its desired version
    targets (``None`` when it has none)."""

    engine: str | None = None
