"""The read endpoints under ``/api/v1``: stacks, versions, commands, their logs, events,
notifications.

Lists share one shape, ``{"items": [...], "next_cursor": ...}``, newest first where they page
(versions, commands, events: ``limit`` 1..500, pass ``next_cursor`` back as ``cursor``; stacks
page by name). A
filter that matches nothing is an empty list; a name in the path that does not exist is 404.
They only read through the repositories.

While authentication is on (an API token, sign-in, or a live personal token), every read
needs a caller who may read: versions carry resolved environment values. ``--api-open-reads``
opens them deliberately; with authentication off they are open (and the writes are off). A
caller whose grants reach some stacks only sees those: lists leave the others out, a stack's
routes (and a command's, by its stack) answer 403 for them. Ids beyond SQLite's 64-bit integers
are 422.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from controller.commands.operations import stack_conditions
from controller.db import Database
from controller.db.rows import (
    MAX_ID,
    decode_cursor,
    decode_name_cursor,
    encode_cursor,
    encode_name_cursor,
)
from controller.desired.shown import shown_compose
from controller.models import CommandStatus, CommandType, HealthStatus, StackVersion, SyncStatus
from controller.models.access import Action
from controller.models.stack_version import version_number
from controller.web.api import identity
from controller.web.api.deps import database, page, plain, require_reader
from controller.web.api.documented import errors

router = APIRouter(
    prefix="/api/v1", dependencies=[Depends(require_reader)], responses=errors(401, 503)
)

Db = Annotated[Database, Depends(database)]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page (at most 500).")]
Cursor = Annotated[
    str | None, Query(min_length=1, description="The next_cursor of the previous page.")
]
CommandId = Annotated[int, Path(ge=1, le=MAX_ID, description="A command's id.")]


@router.get("/stacks", responses=errors(422))
def list_stacks(
    db: Db,
    request: Request,
    sync: SyncStatus | None = None,
    health: HealthStatus | None = None,
    pinned: bool | None = None,
    suspended: bool | None = None,
    include_deleted: bool = Query(
        False, alias="all", description="Deleted stacks too (left out by default)."
    ),
    limit: Limit = 500,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The stacks by name, filtered; a deleted stack only with ``all=true``, as ``stackctl get
    stacks --all``. 500 a page unless ``limit`` says fewer."""
    after = decode_name_cursor(cursor) if cursor is not None else None
    listed = db.stacks.list()
    readable = set(identity.visible(request, [s.stack_id for s in listed]))
    stacks = [
        s
        for s in listed
        if s.stack_id in readable
        and (include_deleted or not s.deleted)
        and (after is None or s.stack_id > after)
        and (sync is None or s.sync_status is sync)
        and (health is None or s.health_status is health)
        and (pinned is None or s.pinned is pinned)
        and (suspended is None or s.suspended is suspended)
    ]
    shown = stacks[:limit]
    more = len(stacks) > limit
    return page(shown, encode_name_cursor(shown[-1].stack_id) if more and shown else None)


@router.get("/stacks/{name}", responses=errors(404))
def get_stack(name: str, db: Db, request: Request) -> dict[str, Any]:
    """The stack, its conditions, its latest recorded version and what runs for its applied
    version (service -> container ids, as recorded when it converged)."""
    identity.require(request, Action.READ, name)
    stack = db.stacks.require(name)
    latest = db.stack_versions.latest(name)
    latest_label = latest.version if latest else None
    applied = db.stack_versions.get(name, stack.applied_version) if stack.applied_version else None
    current = db.stack_versions.get(name, stack.current_version) if stack.current_version else None
    return {
        **plain(stack),
        "latest_version": latest_label,
        "conditions": plain(stack_conditions(stack, latest_version=latest_label, current=current)),
        "runtime": applied.runtime if applied else {},
    }


@router.get("/stacks/{name}/versions", responses=errors(404, 422))
def list_versions(
    name: str, db: Db, request: Request, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    """Newest first, without their compose documents (ask for one version to get it)."""
    identity.require(request, Action.READ, name)
    stack = db.stacks.require(name)
    before = decode_cursor(cursor) if cursor is not None else None
    versions = [
        v for v in reversed(db.stack_versions.list(name)) if before is None or v.number < before
    ]
    shown = versions[:limit]
    more = len(versions) > limit
    return page(
        [_summary(v, current=stack.current_version, applied=stack.applied_version) for v in shown],
        encode_cursor(shown[-1].number) if more and shown else None,
    )


@router.get("/stacks/{name}/versions/{version}", responses=errors(404, 422))
def get_version(name: str, version: str, db: Db, request: Request) -> dict[str, Any]:
    identity.require(request, Action.READ, name)
    stack = db.stacks.require(name)
    version = f"v{version}" if version.isdigit() else version  # `3` as the CLI takes it
    try:
        version_number(version)
    except ValueError as e:
        message = f"version {version!r} is not of the form v1, v2, ... (or 1, 2, ...)"
        raise HTTPException(422, message) from e
    found = db.stack_versions.require(name, version)
    return {
        **_summary(found, current=stack.current_version, applied=stack.applied_version),
        "compose": shown_compose(plain(found.compose)),  # notification URLs masked
    }


def _summary(version: StackVersion, *, current: str | None, applied: str | None) -> dict[str, Any]:
    data = plain(version)
    data.pop("compose", None)
    return {**data, "current": version.version == current, "applied": version.version == applied}


@router.get("/commands", responses=errors(422))
def list_commands(
    db: Db,
    request: Request,
    stack: str | None = None,
    status: CommandStatus | None = None,
    type: CommandType | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The queue, newest first, filtered by stack, status and type."""
    if stack is not None:
        identity.require(request, Action.READ, stack)
    found = db.commands.list(stack_id=stack, status=status, type=type, limit=limit, cursor=cursor)
    return page(_readable(request, found.items), found.next_cursor)


def _readable(request: Request, items: list[Any]) -> list[Any]:
    """The items (commands, events, notifications) of stacks the caller may read, and those of
    no stack for a caller who reads every stack; a page may then hold fewer than ``limit`` and
    still have a next one."""
    everything = identity.principal(request).may(Action.READ)
    names = sorted({name for item in items if (name := _stack_of(item)) is not None})
    readable = set(identity.visible(request, names))
    return [
        item
        for item in items
        if (everything if _stack_of(item) is None else _stack_of(item) in readable)
    ]


def _stack_of(item: Any) -> str | None:
    value = item.get("stack_id") if isinstance(item, dict) else getattr(item, "stack_id", None)
    return value if isinstance(value, str) and value else None


@router.get("/commands/{command_id}", responses=errors(404, 422))
def get_command(command_id: CommandId, db: Db, request: Request) -> dict[str, Any]:
    command = db.commands.require(command_id)
    identity.require(request, Action.READ, command.stack_id)
    return plain(command)


@router.get("/commands/{command_id}/logs", responses=errors(404, 422))
def get_command_logs(
    command_id: CommandId,
    db: Db,
    request: Request,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="Only lines after this log_id.")] = 0,
) -> dict[str, Any]:
    """The command's lines in order. To follow it, pass ``next_after`` back as ``after`` until
    ``command_status`` is final."""
    command = db.commands.require(command_id)  # status first: no line written before is missed
    identity.require(request, Action.READ, command.stack_id)
    lines = db.command_logs.list(command_id, after_id=after)
    return {
        "items": plain(lines),
        "next_after": lines[-1].log_id if lines else after,
        "command_status": command.status.value,
    }


@router.get("/events", responses=errors(422))
def list_events(
    db: Db, request: Request, stack: str | None = None, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    """Newest first; ``stack`` filters (events may name stacks that have no version)."""
    found = db.events.list(stack_id=stack, limit=limit, cursor=cursor)
    return page(_readable(request, found.items), found.next_cursor)


@router.get("/notifications", responses=errors(422))
def list_notifications(
    db: Db, request: Request, stack: str | None = None, limit: Limit = 50
) -> dict[str, Any]:
    """The newest notifications (newest first) and, for each, where it went and how that
    went: ``deliveries`` of ``{label, status, attempts, error}`` (PENDING, SENT, FAILED,
    DROPPED); empty until the sender routed it. Destinations are shown as scheme and host."""
    found = db.outbox.messages(stack_id=stack, limit=limit)
    return {"items": _readable(request, found), "next_cursor": None}
