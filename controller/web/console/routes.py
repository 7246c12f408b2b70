"""The console's pages and fragments (GET), and ``mount_console`` that adds the whole console
to the API's app: these routes, the actions (``actions``), the live streams (``streams``) and
the static files (``/ui/static``: the vendored htmx, the style sheet, the page script).

A page is a whole HTML document; a fragment (``/ui/...``) is the part of it htmx re-fetches
to update itself. The table and a stack's body are re-fetched every 2 s with the marker of
what the page shows; unchanged, the answer is ``204`` and nothing moves on the page. The
table shows a page of stacks at a time (by name, ``?page=``), and its poll gets back only the
rows that changed, swapped in out of band (``_stacks_changes.html``).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from controller.db import Database
from controller.db.rows import MAX_ID
from controller.models.access import Action
from controller.models.errors import NotFoundError
from controller.web.api import identity
from controller.web.console import actions, audit_page, streams
from controller.web.console.auth import EndedSessions, access
from controller.web.console.sign_in import mount_sign_in
from controller.web.console.templating import HERE, render, render_text
from controller.web.console.views import (
    FILTERS,
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    command_page,
    diff_view,
    stack_page,
    stacks_view,
)

router = APIRouter(include_in_schema=False)

CommandId = Annotated[int, Path(ge=1, le=MAX_ID)]


def mount_console(app: FastAPI) -> None:
    """The console at ``/`` of ``app`` (whose ``state`` has ``database``, ``token``,
    ``open_reads``, ``session_hours``, ``secure_cookies`` and, from the daemon, ``observe``,
    ``public_url`` and ``oidc``)."""
    for name in ("observe", "public_url", "oidc"):
        if not hasattr(app.state, name):
            setattr(app.state, name, None)
    app.add_middleware(EndedSessions)
    app.mount("/ui/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    app.include_router(router)
    app.include_router(actions.router)
    app.include_router(audit_page.router)
    app.include_router(streams.router)
    mount_sign_in(app)  # /ui/login, /ui/auth/callback, /ui/logout (OpenID Connect)


def database(request: Request) -> Database:
    db: Database = request.app.state.database.get()
    return db


def token_page(request: Request) -> HTMLResponse:
    """The page for whoever may read nothing: a person whom no binding names is told so (and
    shown nothing else); anybody else is asked for the token or to sign in."""
    if access(request).no_access:
        return render(request, "no_access.html", status_code=403, title="No access")
    return render(request, "token.html", status_code=401, title="API token needed")


def readable(request: Request, name: str) -> bool:
    """Whether the caller's grants reach stack ``name`` for reading."""
    return access(request).principal.may(Action.READ, name, identity.labels_of(request, name))


def forbidden_page(request: Request, name: str) -> HTMLResponse:
    message = f"{access(request).principal.shown} may not read stack {name!r}."
    return render(request, "missing.html", status_code=403, title="Forbidden", message=message)


def readable_stacks(request: Request) -> list[str] | None:
    """The stacks the caller may read, or ``None`` for every one."""
    if access(request).principal.may(Action.READ):
        return None
    return identity.visible(request, sorted(database(request).stacks.labels()))


def missing_page(request: Request, error: NotFoundError) -> HTMLResponse:
    """A page for people, not the API's JSON: the name that is not there (404)."""
    return render(request, "missing.html", status_code=404, title="Not found", message=str(error))


Page = Annotated[int, Query(ge=1, le=MAX_ID)]
PerPage = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


@router.get("/", response_class=HTMLResponse)
def stacks(
    request: Request, status: str = "", q: str = "", page: Page = 1, per: PerPage = PAGE_SIZE
) -> HTMLResponse:
    if not access(request).can_read:
        return token_page(request)
    view = stacks_view(
        database(request),
        status=_status(status),
        query=q,
        page=page,
        per=per,
        only=readable_stacks(request),
    )
    return render(
        request, "stacks.html", title="Stacks", view=view, status=status, q=q, etag=table_etag
    )


@router.get("/ui/stacks/table", response_class=HTMLResponse)
def stacks_table(
    request: Request,
    status: str = "",
    q: str = "",
    page: Page = 1,
    per: PerPage = PAGE_SIZE,
    since: str = "",
    at: str = "",
    keys: str = "",
) -> Response:
    """The table's page (the filter form and the pager ask for it), or the poll's answer:
    ``204`` while the marker is ``since``; else the rows changed after ``at`` when the page
    still shows the stacks of ``keys``, all of its rows when not; the counts and pager with
    either (out-of-band swaps, ``_stacks_changes.html``)."""
    if not access(request).can_read:
        return Response(status_code=401)
    db = database(request)
    if since and since == table_etag(db.stacks.change_marker(), status, q, str(page), str(per)):
        return Response(status_code=204)  # one small query: the table is built only on change
    only = readable_stacks(request)
    view = stacks_view(db, status=_status(status), query=q, page=page, per=per, only=only)
    context = {"view": view, "status": status, "q": q, "etag": table_etag}
    if not since:
        return render(request, "_stacks_table.html", **context)
    changed = view.changed_since(at) if keys == view.keys else None
    return render(request, "_stacks_changes.html", changed=changed, **context)


def _status(value: str) -> str:
    return value if value in FILTERS else ""


def table_etag(marker: str, *parts: str) -> str:
    return hashlib.sha256("\0".join((marker, *parts)).encode()).hexdigest()[:16]


@router.get("/stacks/{name}", response_class=HTMLResponse)
def stack(request: Request, name: str) -> HTMLResponse:
    if not access(request).can_read:
        return token_page(request)
    if not readable(request, name):
        return forbidden_page(request, name)
    try:
        body, digest = _stack_body(request, name)
    except NotFoundError as e:
        return missing_page(request, e)
    return render(request, "stack.html", title=name, name=name, body=body, digest=digest)


@router.get("/ui/stacks/{name}/body", response_class=HTMLResponse)
def stack_body(request: Request, name: str, since: str = "") -> Response:
    """The stack page's content; ``204`` when it is what the page already shows."""
    if not access(request).can_read:
        return Response(status_code=401)
    if not readable(request, name):
        return Response(status_code=403)
    try:
        body, digest = _stack_body(request, name)
    except NotFoundError as e:  # deleted while its page was open: say so, stop polling
        return render(request, "_missing.html", status_code=404, message=str(e))
    if since == digest:
        return Response(status_code=204)
    return render(request, "_stack_poll.html", name=name, body=body, digest=digest)


def _stack_body(request: Request, name: str) -> tuple[str, str]:
    """The stack's content as HTML, and a digest of it (what the page's poll sends back)."""
    page = stack_page(database(request), name, observe=request.app.state.observe)
    body = render_text(request, "_stack_body.html", page=page)
    return body, hashlib.sha256(body.encode()).hexdigest()[:16]


@router.get("/stacks/{name}/diff", response_class=HTMLResponse)
def diff(
    request: Request,
    name: str,
    old: Annotated[str, Query(alias="from")] = "",
    new: Annotated[str, Query(alias="to")] = "",
) -> HTMLResponse:
    if not access(request).can_read:
        return token_page(request)
    if not readable(request, name):
        return forbidden_page(request, name)
    try:
        view = diff_view(database(request), name, old=old or None, new=new or None)
    except NotFoundError as e:
        return missing_page(request, e)
    return render(request, "diff.html", title=f"{name}: diff", name=name, view=view)


@router.get("/commands/{command_id}", response_class=HTMLResponse)
def command(request: Request, command_id: CommandId) -> HTMLResponse:
    if not access(request).can_read:
        return token_page(request)
    try:
        page = command_page(database(request), command_id)
    except NotFoundError as e:
        return missing_page(request, e)
    if not readable(request, page.command.stack_id):
        return forbidden_page(request, page.command.stack_id)
    return render(request, "command.html", title=f"command {command_id}", page=page)
