"""``/audit``: the audit log as a page, newest first, filtered by stack and by who.

It shows what ``GET /api/v1/audit`` answers the same caller: every entry to whoever reads every
stack (those of no stack, such as tokens and sign-ins, to an admin of every stack only), the
entries of their stacks to someone limited to some.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from controller.db import Database
from controller.models.access import Action
from controller.web.api import identity
from controller.web.console.auth import access
from controller.web.console.templating import render

router = APIRouter(include_in_schema=False)

PAGE = 200


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, stack: str = "", who: str = "") -> HTMLResponse:
    from controller.web.console.routes import token_page

    allowed = access(request)
    if not allowed.can_read:
        return token_page(request)
    caller = allowed.principal
    db: Database = request.app.state.database.get()
    everything = caller.may(Action.READ) or caller.may(Action.AUDIT_ALL)
    scope = None if everything else identity.visible(request, sorted(db.stacks.labels()))
    entries = db.audit.list(
        stack_id=stack or None,
        who=who or None,
        stacks=scope,
        stackless=caller.may(Action.AUDIT_ALL),
        limit=PAGE,
    ).items
    return render(request, "audit.html", title="Audit log", entries=entries, stack=stack, who=who)
