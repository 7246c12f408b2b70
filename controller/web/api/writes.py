"""The write endpoints: ``POST /api/v1/stacks/{name}/sync|rollback|suspend|resume`` and
``POST /api/v1/commands/{id}/cancel``.

Each one is a ``controller.commands.operations`` action (flip flags, maybe record a version,
enqueue a
command) and answers ``202 Accepted`` with the command and a ``Location`` to poll; the worker
does the rest. They need ``Authorization: Bearer <token>`` (checked before anything else, so
an unauthenticated caller learns nothing about which stacks exist).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Response
from pydantic import BaseModel

from controller.commands import operations
from controller.db import Database
from controller.db.rows import MAX_ID
from controller.models import Command
from controller.web.api.deps import database, plain, require_token
from controller.web.api.documented import ACCEPTED, errors

# What every write may answer: the command (202), no token (401), writes off (403), an unknown
# name (404), a state that forbids it (409), a bad parameter (422), a busy database (503).
WRITE_RESPONSES = {**ACCEPTED, **errors(401, 403, 404, 409, 422, 503)}

router = APIRouter(
    prefix="/api/v1/stacks", dependencies=[Depends(require_token)], responses=WRITE_RESPONSES
)
commands = APIRouter(
    prefix="/api/v1/commands", dependencies=[Depends(require_token)], responses=WRITE_RESPONSES
)

Db = Annotated[Database, Depends(database)]


class RollbackRequest(BaseModel):
    """``version``: the version to go back to; default the last one applied before the
    current one."""

    version: str | None = None


def _accepted(command: Command, response: Response) -> dict[str, Any]:
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/commands/{command.command_id}"
    return plain(command)


@router.post("/{name}/sync", status_code=202)
def sync_stack(name: str, db: Db, response: Response) -> dict[str, Any]:
    """Reconcile now; a command already pending for the stack is answered instead."""
    return _accepted(operations.sync(db, name), response)


@router.post(
    "/{name}/rollback",
    status_code=202,
    responses=errors(400, e400="The body is not JSON (or the Host is not served here)."),
)
def rollback_stack(
    name: str,
    db: Db,
    response: Response,
    request: Annotated[RollbackRequest | None, Body()] = None,
) -> dict[str, Any]:
    """Record the old spec as a new version, pin the stack and apply it."""
    version = request.version if request is not None else None
    return _accepted(operations.rollback(db, name, version), response)


@router.post("/{name}/suspend", status_code=202)
def suspend_stack(name: str, db: Db, response: Response) -> dict[str, Any]:
    return _accepted(operations.suspend(db, name), response)


@router.post("/{name}/resume", status_code=202)
def resume_stack(name: str, db: Db, response: Response) -> dict[str, Any]:
    return _accepted(operations.resume(db, name), response)


@commands.post("/{command_id}/cancel", status_code=202)
def cancel_command(
    command_id: Annotated[int, Path(ge=1, le=MAX_ID)], db: Db, response: Response
) -> dict[str, Any]:
    """A PENDING command is CANCELLED now; a RUNNING one is asked to stop at its next step
    boundary (poll it). 409 for a command that has already ended."""
    return _accepted(operations.cancel(db, command_id, by="the HTTP API"), response)
