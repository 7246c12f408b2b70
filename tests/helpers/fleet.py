"""Many stacks in a database, fast (no manifests loaded): the console's paging tests."""

from __future__ import annotations

from controller.db import Database
from controller.models import (
    ComposeDefinition,
    HealthStatus,
    Stack,
    StackMetadata,
    StackVersion,
    SyncStatus,
)


def add_stack(db: Database, name: str, i: int) -> None:
    """A stack with one version, its status spread over the filters by ``i``."""
    db.stacks.create(Stack(stack_id=name, name=name))
    db.stack_versions.create(
        StackVersion(
            stack_id=name,
            compose=ComposeDefinition(services={"web": {"image": f"example/{name}:1"}}),
            metadata=StackMetadata(created_by="test", source=f"{name}.yaml"),
        )
    )
    changes: dict[str, object] = {
        "applied_version": "v1",
        "sync_status": SyncStatus.SYNCED,
        "health_status": HealthStatus.HEALTHY,
    }
    if i % 5 == 0:
        changes.update(applied_version=None, sync_status=SyncStatus.OUT_OF_SYNC)
    if i % 7 == 0:
        changes.update(health_status=HealthStatus.DEGRADED)
    if i % 6 == 0:
        changes.update(last_error=f"failure {i}")
    if i % 9 == 0:
        changes.update(suspended=True)
    if i % 11 == 0:
        changes.update(pinned=True)
    db.stacks.update(name, **changes)  # type: ignore[arg-type]
