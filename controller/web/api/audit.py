"""``GET /api/v1/audit``: who changed what, newest first; ``GET /api/v1/whoami``: who the
caller is and what they hold.

The audit log is read-only here: no route updates or deletes an entry (retention alone does,
``--audit-days``). A caller whose grants reach every stack sees every entry; one limited to
some stacks sees the entries of the stacks they may read, and none of those of no stack
(tokens, sign-ins), which need ``admin`` over every stack. ``whoami`` answers anyone the
controller knows (``stackctl login`` checks a token with it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from controller.db import Database
from controller.models.access import Action, PrincipalKind
from controller.web.api import identity
from controller.web.api.deps import database, page, plain, require_reader
from controller.web.api.documented import errors

router = APIRouter(prefix="/api/v1", responses=errors(401, 503))

Db = Annotated[Database, Depends(database)]


@router.get("/audit", dependencies=[Depends(require_reader)], responses=errors(422))
def list_audit(
    db: Db,
    request: Request,
    stack: str | None = None,
    who: str | None = None,
    since: Annotated[
        datetime | None, Query(description="Entries from this moment on (ISO 8601).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(min_length=1)] = None,
) -> dict[str, Any]:
    """Newest first, filtered by stack, identity and time."""
    caller = identity.principal(request)
    if stack is not None:
        identity.require(request, Action.READ, stack)
    if caller.may(Action.AUDIT_ALL) or caller.may(Action.READ):
        scope: list[str] | None = None
        stackless = caller.may(Action.AUDIT_ALL)
    else:
        scope = identity.visible(request, sorted(db.stacks.labels()))
        stackless = False
    found = db.audit.list(
        stack_id=stack,
        who=who,
        since=since,
        stacks=scope,
        stackless=stackless,
        limit=limit,
        cursor=cursor,
    )
    return page(found.items, found.next_cursor)


@router.get("/whoami")
def whoami(request: Request) -> dict[str, Any]:
    """The caller: name, kind, the token used, groups, and each grant as ``role on selector``."""
    caller = identity.principal(request)
    if caller.kind is PrincipalKind.ANONYMOUS and identity.authentication_on(request):
        raise identity.refusal(request, caller, Action.READ, None)
    return plain(
        {
            "name": caller.name,
            "kind": caller.kind.value,
            "via": caller.via,
            "groups": list(caller.groups),
            "grants": [str(grant) for grant in caller.grants],
        }
    )
