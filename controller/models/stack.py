"""A stack: one Compose project under the controller's care, and its status (Argo CD style)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, computed_field

from controller.models.enums import HealthStatus, Suspension, SyncStatus
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
    # Who holds it suspended (``stackctl suspend``, its desired version's ``spec.suspend``):
    # read from the row and its desired version (``controller.db.suspension``), and then its
    # sync and health read Suspended too. Only the operator's flag is stored.
    suspended_by: tuple[Suspension, ...] = ()
    pinned: bool = False  # by a rollback: file changes are recorded, not applied, until resume
    last_error: str | None = None
    created_at: UtcDateTime = Field(default_factory=utc_now)
    updated_at: UtcDateTime = Field(default_factory=utc_now)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def suspended(self) -> bool:
        """Nothing changes at runtime, whoever suspended it."""
        return bool(self.suspended_by)

    @property
    def deleted(self) -> bool:
        """A deleted stack keeps its row (and its events) with no desired and no applied
        version; listings leave it out unless asked for all."""
        return self.current_version is None and self.applied_version is None


class ListedStack(Stack):
    """A stack as ``stackctl get stacks`` lists it: its fields and the engine its desired version
    targets (``None`` when it has none)."""

    engine: str | None = None
