"""``/api/v1/repositories``: the followed git repositories, and ``POST .../{name}/sync`` to have
the controller fetch one now (the same flag as ``stackctl sync --repository``).

Reads follow the read rule (the token when one is set, unless ``open_reads``); the fetch needs
``operator`` over every stack (a repository may feed any of them), and is audited. URLs are the
redacted ones the controller stored: no credential is ever stored, so none can be served.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response

from controller.commands import operations
from controller.commands.audited import audited
from controller.db import Database
from controller.models.access import Action
from controller.web.api import identity
from controller.web.api.deps import database, page, plain, require_reader, require_token
from controller.web.api.documented import errors

router = APIRouter(prefix="/api/v1/repositories")

Db = Annotated[Database, Depends(database)]


@router.get("", dependencies=[Depends(require_reader)], responses=errors(401, 503))
def list_repositories(db: Db) -> dict[str, Any]:
    """Every followed repository, with its last fetch (one page)."""
    return page(db.repositories.list(), None)


@router.get("/{name}", dependencies=[Depends(require_reader)], responses=errors(401, 404, 503))
def get_repository(name: str, db: Db) -> dict[str, Any]:
    return plain(db.repositories.require(name))


@router.post(
    "/{name}/sync",
    status_code=202,
    dependencies=[Depends(require_token)],
    responses=errors(401, 403, 404, 503),
)
def sync_repository(name: str, db: Db, request: Request, response: Response) -> dict[str, Any]:
    """Fetch now: the running controller takes the request within half a second; follow
    ``last_fetch_at`` and ``last_result`` on the repository."""
    identity.require(request, Action.FETCH)
    requested = audited(  # an unknown name is 404 before any header
        db, identity.actor(request), f"fetch {name}", lambda: operations.request_fetch(db, name)
    )
    # A header carries Latin-1 only: the name (any Unicode a manifest allows) goes percent-encoded.
    response.headers["Location"] = f"/api/v1/repositories/{quote(name, safe='')}"
    return plain(requested)
