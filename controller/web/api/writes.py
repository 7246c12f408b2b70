"""The write endpoints: ``POST /api/v1/stacks/{name}/sync|rollback|suspend|resume`` and
``POST /api/v1/commands/{id}/cancel``.

Each one is a ``controller.commands.operations`` action (flip flags, maybe record a version,
enqueue a
command) and answers ``202 Accepted`` with the command and a ``Location`` to poll; the worker
does the rest. They need ``Authorization: Bearer <token>`` (checked before anything else, so
an unauthenticated caller learns nothing about which stacks exist), then a grant that reaches
the stack for the action (``identity.require``: sync, suspend, resume, rollback and cancel need
``operator``). Each change is recorded in the audit log in its own transaction, with who asked
(``commands.audited``); a refusal by role is recorded as ``denied``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request, Response
from pydantic import BaseModel

from controller.commands import operations
from controller.commands.audited import audited
from controller.db import Database
from controller.db.rows import MAX_ID
from controller.models import Command
from controller.models.access import Action
from controller.web.api import identity
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


def _act(
    request: Request, db: Database, action: Action, stack: str, run: Callable[[], Command]
) -> Command:
    """``run`` the change when the caller's grants reach ``stack``, audited with it."""
    identity.require(request, action, stack)
    return audited(db, identity.actor(request), action.value, run, stack_id=stack)


@router.post("/{name}/sync", status_code=202)
def sync_stack(name: str, db: Db, request: Request, response: Response) -> dict[str, Any]:
    """Reconcile now; a command already pending for the stack is answered instead."""
    command = _act(request, db, Action.SYNC, name, lambda: operations.sync(db, name))
    return _accepted(command, response)


@router.post(
    "/{name}/rollback",
    status_code=202,
    responses=errors(400, e400="The body is not JSON (or the Host is not served here)."),
)
def rollback_stack(
    name: str,
    db: Db,
    request: Request,
    response: Response,
    body: Annotated[RollbackRequest | None, Body()] = None,
) -> dict[str, Any]:
    """Record the old spec as a new version, pin the stack and apply it."""
    version = body.version if body is not None else None
    command = _act(
        request,
        db,
        Action.ROLLBACK,
        name,
        lambda: operations.rollback(db, name, version, actor=identity.actor(request)),
    )
    return _accepted(command, response)


@router.post("/{name}/suspend", status_code=202)
def suspend_stack(name: str, db: Db, request: Request, response: Response) -> dict[str, Any]:
    command = _act(
        request,
        db,
        Action.SUSPEND,
        name,
        lambda: operations.suspend(db, name, actor=identity.actor(request)),
    )
    return _accepted(command, response)


@router.post("/{name}/resume", status_code=202)
def resume_stack(name: str, db: Db, request: Request, response: Response) -> dict[str, Any]:
    command = _act(
        request,
        db,
        Action.RESUME,
        name,
        lambda: operations.resume(db, name, actor=identity.actor(request)),
    )
    return _accepted(command, response)


@commands.post("/{command_id}/cancel", status_code=202)
def cancel_command(
    command_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    db: Db,
    request: Request,
    response: Response,
) -> dict[str, Any]:
    """A PENDING command is CANCELLED now; a RUNNING one is asked to stop at its next step
    boundary (poll it). 409 for a command that has already ended."""
    stack = db.commands.require(command_id).stack_id
    who = identity.actor(request)
    command = _act(
        request,
        db,
        Action.CANCEL,
        stack,
        lambda: operations.cancel(db, command_id, by="the HTTP API", actor=who),
    )
    return _accepted(command, response)
