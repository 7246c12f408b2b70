"""Recording a rollback: an older version's spec as a new current version, the stack pinned, its
APPLY queued (the automatic one is a new version recorded by the controller, with the same pin rules
as a manual one: docs/architecture.md, "Decisions the code relies on"). ``operations.rollback`` (the
operator's) and ``rollback_watch`` (the automatic one, decided by ``autorollback``) both record
through here; ``rollback_failed`` reports one that could not be done or did not work. Each function
is one transaction; none touches the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from controller.db import Database
from controller.delivery.rollbacks.decision import AUTO_ROLLBACK_BY, rolled_back_message
from controller.models import (
    Command,
    CommandType,
    Event,
    LogLevel,
    Stack,
    StackMetadata,
    StackVersion,
)
from controller.models.errors import ConflictError
from controller.sources.versions import load_desired, record_version, version_root


def auto_rollback(
    db: Database, stack_id: str, *, from_version: str, to_version: str, why: str, root: Path
) -> Command:
    """The automatic rollback (``controller.delivery.rollbacks.decision`` decided it):
    ``to_version``'s spec
    recorded as a new current version made by ``stackctl auto-rollback``, the stack pinned as
    by ``rollback``, a ``RolledBack`` event (a notification) and the new version's APPLY, in
    one transaction. ``root``: where the target was recorded from, when it does not say."""
    with db.transaction():
        stack = db.stacks.require(stack_id)
        if stack.current_version != from_version:
            raise ConflictError(
                f"stack {stack_id!r} is at {stack.current_version}, not {from_version}:"
                " no automatic rollback"
            )
        target = db.stack_versions.require(stack_id, to_version)
        message = rolled_back_message(from_version=from_version, to_version=to_version, why=why)
        recorded, command = record_rollback(
            db,
            stack,
            target,
            root=version_root(target, root),
            metadata=StackMetadata(created_by=AUTO_ROLLBACK_BY, comment=message),
        )
        db.events.add(
            Event(
                stack_id=stack_id,
                level=LogLevel.WARNING,
                reason="RolledBack",
                message=f"{message}; recorded as {recorded.version}, pinned until"
                f" `stackctl resume {stack_id}`",
                data={
                    "from": from_version,
                    "to": to_version,
                    "target": recorded.version,
                    "reason": why,
                    "version": from_version,
                    "automatic": True,
                },
            )
        )
        return command


def rollback_failed(
    db: Database, stack_id: str, *, version: str, why: str, data: dict[str, Any] | None = None
) -> None:
    """A rollback that could not be done or did not work: a ``RollbackFailed`` event (a
    notification) and the stack's last error, in one transaction; nothing else changes."""
    with db.transaction():
        db.stacks.require(stack_id)
        db.stacks.update(stack_id, last_error=f"automatic rollback: {why}")
        db.events.add(
            Event(
                stack_id=stack_id,
                level=LogLevel.ERROR,
                reason="RollbackFailed",
                message=why,
                data={**(data or {}), "version": version, "reason": why},
            )
        )


def record_rollback(
    db: Database, stack: Stack, target: StackVersion, *, root: Path, metadata: StackMetadata
) -> tuple[StackVersion, Command]:
    """``target``'s spec as the new current version (its parent: the current one), the stack
    pinned, and the new version's APPLY queued. Inside the caller's transaction."""
    recorded = record_version(
        db,
        load_desired(db, target),
        root=root,
        metadata=metadata,
        parent_version=stack.current_version,
        force=True,
    )
    assert recorded is not None  # force=True always records
    db.stacks.update(stack.stack_id, pinned=True)
    command = db.commands.enqueue(
        Command(
            stack_id=stack.stack_id,
            type=CommandType.APPLY_STACK_VERSION,
            payload={"version": recorded.version, "rollback_to": target.version},
        )
    )
    return recorded, command
