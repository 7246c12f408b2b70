"""The operator's actions, shared by the CLI and the HTTP API: rollback, resume, suspend, sync.

Every action is one database transaction that flips a stack's flags and/or records a version,
then enqueues a command for the worker; none of them touches the engine, so they work the same
while ``stackctl run`` is running (its worker picks the command up) and when it is not (the CLI
then runs the command itself). ``stack_conditions`` (``conditions.py``, re-exported here)
derives the Kubernetes-style conditions both surfaces show. This module never imports a
surface (cli, api) nor the runtime.

Pinning: a rollback records the old spec as a *new* version (history only grows), makes it
current and pins the stack. While pinned, versions recorded from the files are kept but not made
current (``record_version`` respects the pin), so the rollback holds until ``resume``. The
automatic rollback (``controller.delivery.rollbacks.record``, decided by
``controller.delivery.rollbacks.decision``) is the
same act with its own author (``stackctl auto-rollback``) and the reason in the version's
comment.

Who: each action but ``sync`` takes the ``Actor`` that asks for it (``None``: as before teams).
A rollback's version is then ``created_by`` ``stackctl rollback by alice`` (``authored``), the
identity its audit entry names, and the events say who (``suspended by alice: ...``). The
caller records the audit entry around the action (``audited``), in its transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Re-exported: the conditions were made here before the CLI needed them without pydantic.
from controller.commands.conditions import Condition as Condition
from controller.commands.conditions import stack_conditions as stack_conditions
from controller.db import Database
from controller.delivery.rollbacks.decision import MANUAL_ROLLBACK_BY
from controller.delivery.rollbacks.record import record_rollback
from controller.models import (
    Command,
    CommandType,
    Event,
    Repository,
    Stack,
    StackMetadata,
    StackVersion,
    Suspension,
    VersionStatus,
)
from controller.models.audit import Actor, authored
from controller.models.errors import ConflictError, NotFoundError
from controller.models.stack_version import version_number
from controller.sources.versions import version_engine, version_root


def rollback(
    db: Database, stack_id: str, version: str | None = None, *, actor: Actor | None = None
) -> Command:
    """Record the spec of ``version`` (default: the last APPLIED version older than the current
    one) as a new current version, pin the stack and enqueue its APPLY. A suspended stack is
    refused (``ConflictError``): resume it first.

    The command's payload says ``{"version": <new>, "rollback_to": <old>}``.
    """
    with db.transaction():
        stack = db.stacks.require(stack_id)
        if stack.current_version is None:
            raise ConflictError(f"stack {stack_id!r} has no version yet: nothing to roll back")
        if Suspension.OPERATOR in stack.suspended_by:
            # Nothing would change at runtime, and resume applies the latest version: refuse
            # rather than record a rollback that can never take effect as such.
            raise ConflictError(
                f"stack {stack_id!r} is suspended: `stackctl resume {stack_id}` first"
            )
        target = _rollback_target(db, stack, version)
        recorded, command = record_rollback(
            db,
            stack,
            target,
            root=version_root(target, Path.cwd()),
            metadata=StackMetadata(
                created_by=authored(MANUAL_ROLLBACK_BY, actor),
                comment=f"rollback to {target.version}",
            ),
        )
        _note(
            db,
            stack_id,
            "RolledBack",
            f"rolled back{_by(actor)} to {target.version} as {recorded.version}"
            f" (was {stack.current_version}); pinned: file changes are recorded but not applied"
            " until `stackctl resume`",
            data={
                "from": stack.current_version,
                "to": target.version,
                "target": recorded.version,
                "version": stack.current_version,
                "automatic": False,
            },
        )
        return command


def _rollback_target(db: Database, stack: Stack, version: str | None) -> StackVersion:
    assert stack.current_version is not None
    if version is not None:
        version = f"v{version}" if version.isdigit() else version  # `rollback shop 3` works too
        try:
            version_number(version)
        except ValueError as e:
            raise NotFoundError(f"stack {stack.stack_id!r} has no version {version!r}") from e
        target = db.stack_versions.require(stack.stack_id, version)
        if target.version == stack.current_version:
            raise ConflictError(
                f"{version} is already the current version of stack {stack.stack_id!r}"
            )
        return target
    current = version_number(stack.current_version)
    candidates = [
        v
        for v in db.stack_versions.list(stack.stack_id)
        if v.status is VersionStatus.APPLIED and v.number < current
    ]
    if not candidates:
        raise ConflictError(
            f"stack {stack.stack_id!r} has no version older than {stack.current_version} that"
            " was applied: name the version to roll back to"
        )
    return candidates[-1]


def resume(db: Database, stack_id: str, *, actor: Actor | None = None) -> Command:
    """Unpin and unsuspend the stack, make its latest version current and enqueue its APPLY."""
    with db.transaction():
        stack = db.stacks.require(stack_id)
        latest = db.stack_versions.latest(stack_id)
        if latest is None:
            raise ConflictError(f"stack {stack_id!r} has no version to resume to")
        now = db.stacks.update(
            stack_id, pinned=False, suspended=False, current_version=latest.version
        )
        flags = (("pinned", stack.pinned), ("suspended", Suspension.OPERATOR in stack.suspended_by))
        was = [flag for flag, on in flags if on]
        held = (
            f"; still suspended: {latest.version} says `suspend: true` (its manifest lifts it)"
            if Suspension.MANIFEST in now.suspended_by
            else ""
        )
        _note(
            db,
            stack_id,
            "Resumed",
            f"resumed{_by(actor)} ({' and '.join(was) or 'neither pinned nor suspended'} before);"
            f" applying the latest version {latest.version}{held}",
        )
        return db.commands.enqueue(
            Command(
                stack_id=stack_id,
                type=CommandType.APPLY_STACK_VERSION,
                payload={"version": latest.version},
            )
        )


def suspend(db: Database, stack_id: str, *, actor: Actor | None = None) -> Command:
    """Mark the stack suspended (nothing changes at runtime until resumed) and enqueue a
    RECONCILE, which records the Suspended health."""
    with db.transaction():
        db.stacks.require(stack_id)
        db.stacks.update(stack_id, suspended=True)
        _note(
            db,
            stack_id,
            "Suspended",
            f"suspended{_by(actor)}: nothing changes at runtime until resumed",
        )
        return db.commands.enqueue(Command(stack_id=stack_id, type=CommandType.RECONCILE))


def sync(db: Database, stack_id: str) -> Command:
    """Enqueue a RECONCILE now; a stack that already has a PENDING command gets that one back
    (it will observe the engine anyway: the loop is level-triggered). It takes no ``actor``:
    it records nothing but its command, whose audit entry says who asked."""
    return request_sync(db, stack_id)[0]


def request_sync(db: Database, stack_id: str) -> tuple[Command, bool]:
    """``sync``, also saying whether the command is new (``False``: one was already pending)."""
    with db.transaction():
        db.stacks.require(stack_id)
        return db.commands.enqueue_unless_pending(
            Command(stack_id=stack_id, type=CommandType.RECONCILE, payload={"reason": "sync"})
        )


def move(
    db: Database, stack_id: str, to: str | None = None, *, actor: Actor | None = None
) -> Command:
    """Approve moving the stack to the engine its desired version targets: enqueue the APPLY
    that tears it down on the engine it runs on and creates it on the new one (volumes and
    their data stay where they were). ``ConflictError`` when there is nothing to move: no
    version applied yet, or the desired version targets the engine it already runs on; and
    when ``to`` (the engine the person approving means, ``stackctl move STACK ENGINE``) is not
    the one the desired version targets: nothing is approved that was not read.

    The command's payload says ``{"version": <desired>, "move": {"from": A, "to": B}}``; the
    reconciler refuses any other change of engine.
    """
    with db.transaction():
        stack = db.stacks.require(stack_id)
        if stack.current_version is None or stack.applied_version is None:
            raise ConflictError(
                f"stack {stack_id!r} has no applied version: it is created where its manifest"
                " points, nothing to move"
            )
        desired = version_engine(db.stack_versions.require(stack_id, stack.current_version))
        running = version_engine(db.stack_versions.require(stack_id, stack.applied_version))
        if to is not None and to != desired:
            raise ConflictError(
                f"stack {stack_id!r}'s desired version {stack.current_version} targets engine"
                f" {desired!r}, not {to!r}: nothing approved (set spec.target.engine in its"
                f" manifest, or approve the move to {desired!r})"
            )
        if desired == running:
            raise ConflictError(
                f"stack {stack_id!r} runs on engine {running!r}, where its desired version"
                f" {stack.current_version} targets: nothing to move (set spec.target.engine"
                " in its manifest first)"
            )
        _note(
            db,
            stack_id,
            "MoveApproved",
            f"moving from engine {running!r} to {desired!r}"
            + (f" (approved by {actor.who})" if actor is not None else "")
            + f": torn down there (volumes kept), created here as {stack.current_version}",
        )
        return db.commands.enqueue(
            Command(
                stack_id=stack_id,
                type=CommandType.APPLY_STACK_VERSION,
                payload={
                    "version": stack.current_version,
                    "move": {"from": running, "to": desired},
                },
            )
        )


def cancel(
    db: Database, command_id: int, *, by: str = "stackctl cancel", actor: Actor | None = None
) -> Command:
    """Stop a command: a PENDING (or backing-off) one is CANCELLED now, a RUNNING one is asked
    to stop and its worker ends it at the next step boundary or wait tick. ``ConflictError``
    for a command that has already ended. ``by``: the surface (``the HTTP API``); with an
    ``actor``, who through it (``cancelled by alice through the HTTP API``)."""
    if actor is not None:
        by = f"{actor.who} through {by}"
    command = db.commands.request_cancel(command_id, reason=f"cancelled by {by}")
    _note(
        db,
        command.stack_id,
        "CommandCancelled",
        f"command {command_id} ({command.type}) cancelled by {by}",
    )
    return command


def _by(actor: Actor | None) -> str:
    """`` by alice`` in an event's message, when someone asked."""
    return "" if actor is None else f" by {actor.who}"


def _note(
    db: Database, stack_id: str, reason: str, message: str, *, data: dict[str, Any] | None = None
) -> None:
    db.events.add(Event(stack_id=stack_id, reason=reason, message=message, data=data))


def request_fetch(db: Database, repository: str) -> Repository:
    """Ask the running controller to fetch ``repository`` now (``stackctl sync --repository``):
    a flag on its row, taken within half a second. Unknown name: ``NotFoundError``."""
    return db.repositories.request_fetch(repository)
