"""The console's buttons: sync, rollback to a version, suspend, resume, move to the targeted
engine, cancel a command, and entering or forgetting the API token.

Each action calls the same ``controller.commands.operations`` function as the CLI and the API, and
answers an HTML fragment for the page's action area: the command it queued, followed live
(``_follow.html`` opens the command's log stream). A refusal is a fragment too, with the
status code that says why: 401 without the token or a sign-in, 403 for a forged request, no
token configured, or a role that does not reach the stack (recorded in the audit log as
denied), 409 for a state that forbids it (a suspended stack cannot be rolled back), 404 for an
unknown name. Every action is recorded in the audit log with who clicked it, in the
transaction of the change (``commands.audited``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from controller.commands import operations
from controller.commands.audited import audited
from controller.db import Database
from controller.db.rows import MAX_ID
from controller.models import Command
from controller.models.access import Action
from controller.models.audit import Actor, Surface
from controller.models.errors import ConflictError, NotFoundError, PermanentError, StackctlError
from controller.web.api import identity
from controller.web.console.auth import access, close_session, forged, open_session, token_matches
from controller.web.console.templating import render

router = APIRouter(prefix="/ui", include_in_schema=False)

CommandId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _refused(request: Request, message: str, status_code: int) -> Response:
    return render(request, "_refused.html", status_code=status_code, message=message)


def _guard(request: Request) -> Response | None:
    """The refusal for this request, or None when it may act at all."""
    allowed = access(request)
    if not allowed.signed_in:
        if not allowed.token_configured and not allowed.sign_in:
            return _refused(request, allowed.why_not, 403)
        return _refused(request, "Refused: " + allowed.why_not, 401)
    if forged(request):
        return _refused(request, "Refused: this request did not come from the console.", 403)
    return None


def _act(
    request: Request,
    label: str,
    action: Action,
    stack: str | None,
    run: Callable[[Database], Command],
) -> Response:
    refusal = _guard(request)
    if refusal is not None:
        return refusal
    db: Database = request.app.state.database.get()
    try:
        if stack is None:  # a command's: its stack
            stack = db.commands.require(_command_id(request)).stack_id
        identity.require(request, action, stack)
        command: Command = audited(
            db,
            identity.actor(request, Surface.CONSOLE),
            action.value,
            lambda: run(db),
            stack_id=stack,
        )
    except HTTPException as e:  # the role does not reach the stack (recorded as denied)
        return _refused(request, f"Refused: {e.detail}", e.status_code)
    except NotFoundError as e:
        return _refused(request, str(e), 404)
    except (ConflictError, PermanentError) as e:
        return _refused(request, f"{label} refused: {e}", 409)
    except StackctlError as e:
        return _refused(request, f"{label} failed: {e}", 503)
    return render(request, "_follow.html", status_code=202, command=command, action=label)


def _who(request: Request) -> Actor:
    return identity.actor(request, Surface.CONSOLE)


def _command_id(request: Request) -> int:
    return int(request.path_params["command_id"])


@router.post("/stacks/{name}/sync")
def sync(request: Request, name: str) -> Response:
    return _act(request, "Sync", Action.SYNC, name, lambda db: operations.sync(db, name))


async def _field(request: Request, name: str) -> str:
    """One field of the urlencoded form htmx posts (no multipart parser needed for that)."""
    values = parse_qs((await request.body()).decode("utf-8", "replace")).get(name, [""])
    return values[0]


@router.post("/stacks/{name}/rollback")
async def rollback(request: Request, name: str) -> Response:
    target = (await _field(request, "version")).strip() or None
    label = f"Rollback to {target}" if target else "Rollback"
    return await run_in_threadpool(
        _act,
        request,
        label,
        Action.ROLLBACK,
        name,
        lambda db: operations.rollback(db, name, target, actor=_who(request)),
    )


@router.post("/stacks/{name}/suspend")
def suspend(request: Request, name: str) -> Response:
    return _act(
        request,
        "Suspend",
        Action.SUSPEND,
        name,
        lambda db: operations.suspend(db, name, actor=_who(request)),
    )


@router.post("/stacks/{name}/resume")
def resume(request: Request, name: str) -> Response:
    return _act(
        request,
        "Resume",
        Action.RESUME,
        name,
        lambda db: operations.resume(db, name, actor=_who(request)),
    )


@router.post("/stacks/{name}/move")
def move(request: Request, name: str) -> Response:
    return _act(
        request,
        "Move",
        Action.MOVE,
        name,
        lambda db: operations.move(db, name, actor=_who(request)),
    )


@router.post("/commands/{command_id}/cancel")
def cancel(request: Request, command_id: CommandId) -> Response:
    return _act(
        request,
        "Cancel",
        Action.CANCEL,
        None,
        lambda db: operations.cancel(db, command_id, by="the web console", actor=_who(request)),
    )


@router.post("/session")
async def enter_token(request: Request) -> Response:
    """Check the token and open a session: its cookie holds a random id (the page reloads)."""
    token = await _field(request, "token")
    await run_in_threadpool(access, request)  # looked up once, off the event loop
    if not request.app.state.token:
        return _refused(request, access(request).why_not, 403)
    if not token_matches(request, token):
        return _refused(request, "That is not this controller's API token.", 401)
    response = Response(status_code=204, headers={"HX-Refresh": "true"})
    await run_in_threadpool(open_session, request, response)  # a database write
    return response


@router.post("/session/forget")
def forget_token(request: Request) -> Response:
    if request.headers.get("hx-request") != "true":  # another site's form cannot sign one out
        return _refused(request, "Refused: this request did not come from the console.", 403)
    response = Response(status_code=204, headers={"HX-Refresh": "true"})
    close_session(request, response)  # ended on the server: a copied cookie works no more
    return response
