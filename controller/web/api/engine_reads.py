"""What a stack's engine says, through the controller that serves the API: ``GET
/api/v1/stacks/{name}/containers`` (``stackctl ps``'s tables, or ``describe``'s with
``view=describe``) and ``GET /api/v1/stacks/{name}/logs`` (the containers' output).

The engine is the one the stack's desired version targets (else its applied one's, else
``local``), asked by the daemon's callables (``ControllerSide``); the app itself never talks to
an engine, and without a controller behind it these routes answer 503. Reading needs the
``viewer`` role on the stack. ``logs`` answers what is there (``tail``, ``since``) and no
more than ``MAX_LINES`` lines (``truncated`` then says so); it does not follow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from controller.db import Database
from controller.desired.engine_spec import LOCAL
from controller.models.access import Action
from controller.sources.versions import version_engine
from controller.web.api import identity
from controller.web.api.controller_side import ControllerSide
from controller.web.api.deps import database, plain, require_reader
from controller.web.api.documented import errors

MAX_LINES = 100_000

router = APIRouter(
    prefix="/api/v1/stacks",
    dependencies=[Depends(require_reader)],
    responses=errors(401, 403, 404, 422, 503),
)

Db = Annotated[Database, Depends(database)]
NO_ENGINE = "this API has no engine behind it: ask the controller that serves it (stackctl run)"


def _target(db: Database, name: str) -> tuple[str, list[str]]:
    """The engine the stack targets and its recorded version's services."""
    stack = db.stacks.require(name)
    label = stack.current_version or stack.applied_version
    version = db.stack_versions.get(name, label) if label else None
    if version is None:
        return LOCAL, []
    return version_engine(version), sorted(version.compose.services)


def _side(request: Request) -> ControllerSide:
    side: ControllerSide = request.app.state.controller_side
    return side


@router.get("/{name}/containers")
def stack_containers(
    name: str,
    db: Db,
    request: Request,
    view: Annotated[Literal["ps", "describe"], Query(description="Whose tables.")] = "ps",
) -> dict[str, Any]:
    """The stack's containers (a Swarm stack's services and tasks) on its engine: ``unit``,
    ``data`` (``-o json``), ``tables`` (``headers``, ``rows``, ``heading``), ``engine`` and,
    for ``describe``, ``engine_error`` when the engine could not be asked (the line
    ``stackctl describe`` prints above the services: ``engine unreachable: ...``)."""
    identity.require(request, Action.READ, name)
    engine, services = _target(db, name)
    side = _side(request)
    error = None
    if view == "ps":
        if side.containers is None:
            raise HTTPException(503, NO_ENGINE)
        listing = side.containers(name, engine, services)
    else:
        if side.view is None:
            raise HTTPException(503, NO_ENGINE)
        listing, error = side.view(name, engine, services)
    return {
        "engine": engine,
        "engine_error": error,
        "unit": listing.unit,
        "data": plain(listing.data),
        "tables": plain(listing.tables),
    }


@router.get("/{name}/logs")
def stack_logs(
    name: str,
    db: Db,
    request: Request,
    service: str | None = None,
    tail: Annotated[int | None, Query(ge=0, description="The last N lines of each.")] = None,
    since: Annotated[datetime | None, Query(description="Lines from this moment on.")] = None,
) -> dict[str, Any]:
    """The output of the stack's containers (of ``service``'s), in time order: ``items`` of
    ``{source, line}``, each line starting with the engine's timestamp."""
    identity.require(request, Action.READ, name)
    engine, _ = _target(db, name)
    side = _side(request)
    if side.logs is None:
        raise HTTPException(503, NO_ENGINE)
    lines = side.logs(name, engine, service, tail, since)
    what = f"service {service!r} of stack {name!r}" if service else f"stack {name!r}"
    if lines is None:
        raise HTTPException(404, f"nothing of {what} runs on engine {engine!r}")
    return {
        "items": [{"source": source, "line": line} for source, line in lines[:MAX_LINES]],
        "truncated": len(lines) > MAX_LINES,
    }
