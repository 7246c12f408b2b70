"""What a command's start and end tell people: the outbox messages of the queue's transitions.

The worker calls ``started`` and ``ended`` inside the transaction that records the transition
(the "started" log line; DONE or FAILED), so a message exists exactly when its transition was
committed, once per command (the key holds the command id). Which transitions speak:

- an APPLY (a new or rolled-back version): ``apply.started``, then ``apply.succeeded`` with the
  plan's summary and the stack's health, or ``apply.failed`` with the reason;
- a RECONCILE (resync, ``stackctl sync``, a health follow-up): ``drift.corrected`` when its plan
  changed something, ``apply.failed`` when it failed; nothing when there was nothing to do;
- a DELETE: nothing.

Successes and failures share the topic ``outcome`` per stack: a failure repeated by every
resync is said once, until a success (said or not) resets it; a second success of the same
version is not said again. Drift corrections are each said (each is a new change to the engine).
"""

from __future__ import annotations

from controller.backends.docker.planner import Plan
from controller.db import Database
from controller.models import Command, CommandType, StackVersion
from controller.sources.versions import version_payload

SUMMARY_STEPS = 5  # steps named in a summary; the rest are counted


def started(db: Database, command: Command) -> None:
    if command.type is not CommandType.APPLY_STACK_VERSION:
        return
    version = _version(db, command)
    if version is None:
        return
    db.outbox.add(
        "apply.started",
        key=f"apply.started:{command.command_id}",
        stack_id=command.stack_id,
        payload=version_payload(
            version, message=f"{command.stack_id} {version.version}: apply started"
        ),
    )


def ended(db: Database, command: Command, plan: Plan | None, *, error: str | None) -> None:
    """After DONE (``error`` None) or FAILED, in the same transaction."""
    if command.type is CommandType.DELETE_STACK:
        return
    version = _version(db, command)
    if version is None:
        return
    stack = db.stacks.get(command.stack_id)
    health = stack.health_status.value if stack else "Unknown"
    name = f"{command.stack_id} {version.version}"
    if error is not None:
        kind, message = "apply.failed", f"{name}: apply failed: {error}"
        fingerprint = f"failed:{version.version}:{error}"
    elif command.type is CommandType.APPLY_STACK_VERSION:
        kind, message = "apply.succeeded", f"{name} applied: {summary(plan)}; {health}"
        fingerprint = f"ok:{version.version}"
    elif plan is not None and not plan.in_sync:
        # Each correction is news (something changed the engine again): never coalesced.
        kind, message = "drift.corrected", f"{name}: drift corrected: {summary(plan)}; {health}"
        fingerprint = None
        db.outbox.remember(command.stack_id, "outcome", f"ok:{version.version}")
    else:
        db.outbox.remember(command.stack_id, "outcome", f"ok:{version.version}")
        return
    db.outbox.add(
        kind,
        key=f"{kind}:{command.command_id}",
        stack_id=command.stack_id,
        payload={
            **version_payload(version, message=message),
            "command_id": command.command_id,
            "health": health,
            "error": error,
            "changes": [step.describe() for step in plan.changes] if plan else [],
        },
        topic="outcome" if fingerprint else None,
        fingerprint=fingerprint,
    )


def summary(plan: Plan | None) -> str:
    """``2 changes: create shop-web-1, recreate shop-db-1 (image changed)`` or ``in sync``."""
    if plan is None or plan.in_sync:
        return "in sync, nothing to change"
    steps = [step.describe() for step in plan.changes]
    named = ", ".join(steps[:SUMMARY_STEPS])
    more = f" and {len(steps) - SUMMARY_STEPS} more" if len(steps) > SUMMARY_STEPS else ""
    return f"{len(steps)} change{'s' if len(steps) != 1 else ''}: {named}{more}"


def _version(db: Database, command: Command) -> StackVersion | None:
    """The version the command works on: the stack's current one (a command converges to it,
    whatever version it was queued for), else the one its payload names."""
    stack = db.stacks.get(command.stack_id)
    name = (stack.current_version if stack else None) or command.payload.get("version")
    return db.stack_versions.get(command.stack_id, name) if name else None
