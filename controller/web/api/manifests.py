"""``POST /api/v1/apply`` and ``POST /api/v1/diff``: a folder of manifests sent over HTTP
(``stackctl --server URL apply|diff PATH``), loaded with the controller's own loader and rules.

The body (``uploads.py``) is read only once the caller is known and may apply (or, for a
diff, read) somewhere, through the webhooks' body guard: at most ``MAX_BODY`` bytes, sharing
their budget and deadline (``limits.py``). It is written into a private folder under
``uploads/`` and loaded as ``stackctl apply PATH`` loads its path (``load_path``, with the
controller's ``--notify-allow`` and ``--secrets-dir``).

``apply``: every manifest valid (else 422 with each error's file, line, key and problem, and
nothing recorded), every stack the caller's ``apply`` grant reaches with its labels now and
those it declares (else 403, audited as denied), none declared by one of the controller's
own sources (409: its watched folder or a repository; an apply would be undone by their next
pass) or targeting an engine the controller does not declare (422). Then each changed stack
gets its new version, recorded as the caller (``created_by``: ``stackctl apply by alice``),
and its APPLY, in one transaction with its audit entry (action ``apply``); the controller's
workers converge it. The answer lists each stack: unchanged, or the version recorded and the
command queued (none while a rollback pins it). The files of an apply that recorded a version
are kept (``uploads.py`` says where and why).

``diff`` (the ``viewer`` role, with the same two sets of labels): the same load, then the
plan of each stack on its engine against what the engine
runs and the applied version, as ``stackctl diff`` prints it (the daemon's ``plan``; 503 for
an API without a controller behind it). Nothing is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from controller.commands.audited import audited
from controller.db import Database
from controller.desired import DesiredStack
from controller.models import StackMetadata
from controller.models.access import Action
from controller.models.audit import authored
from controller.models.errors import ConflictError
from controller.sources.loader import LoadResult, load_path
from controller.sources.versions import load_desired, record_and_enqueue
from controller.web.api import identity
from controller.web.api.controller_side import ControllerSide
from controller.web.api.deps import database, plain, require_token
from controller.web.api.documented import errors
from controller.web.api.limits import MIB, BodyRefused, HookGuard
from controller.web.api.uploads import Upload, UploadRefused, keep, parse_upload, private_copy

MAX_BODY = 16 * MIB  # a JSON body of base64 files: about 12 MiB of files

router = APIRouter(
    prefix="/api/v1",
    dependencies=[Depends(require_token)],
    responses=errors(401, 403, 408, 409, 413, 422, 503),
)


class Invalid(Exception):
    """422 with ``errors`` (each problem as one line: ``app.yaml:7: spec.x: why``) and
    ``problems`` (each as ``{file, line, path, message}``)."""

    def __init__(self, message: str, problems: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.message, self.problems = message, problems


# The body, as /docs shows it (read as bytes by the route: ``uploads.py`` checks it).
BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "object",
                            "description": "Each file's path under the folder -> its base64.",
                            "additionalProperties": {"type": "string"},
                        },
                        "path": {
                            "type": ["string", "null"],
                            "description": "The one file to load (null: the folder).",
                        },
                        "executable": {"type": "array", "items": {"type": "string"}},
                    },
                }
            }
        },
    }
}


@router.post("/apply", openapi_extra=BODY)
async def apply_manifests(request: Request) -> JSONResponse:
    """Record and queue the stacks of the files sent (module docstring)."""
    return await _answer(request, Action.APPLY, _apply)


@router.post("/diff", openapi_extra=BODY)
async def diff_manifests(request: Request) -> JSONResponse:
    """The plan of the stacks of the files sent, not carried out (module docstring)."""
    return await _answer(request, Action.READ, _diff)


async def _answer(request: Request, action: Action, work: Any) -> JSONResponse:
    await run_in_threadpool(_may_somewhere, request, action)
    guard: HookGuard = request.app.state.hook_guard
    declared = request.headers.get("content-length")
    limit = min(MAX_BODY, guard.limits.body_budget)
    size = int(declared) if declared and declared.isdigit() else None
    if size is not None and size > limit:  # refused unread
        message = f"the body is over {limit} bytes, this controller's limit: send fewer files"
        return JSONResponse({"message": message}, status_code=413, headers={"Connection": "close"})
    try:
        async with guard.read_body(request, declared=size, limit=limit) as body:
            upload = await run_in_threadpool(parse_upload, body)
        answer = await run_in_threadpool(work, request, upload)
    except BodyRefused as e:
        return JSONResponse({"message": e.message}, status_code=e.status)
    except UploadRefused as e:
        return JSONResponse({"message": f"the files sent: {e}"}, status_code=422)
    except Invalid as e:
        lines = [_line(problem) for problem in e.problems]
        body = {"message": e.message, "errors": lines, "problems": e.problems}
        return JSONResponse(body, status_code=422)
    return JSONResponse(answer)


def _line(problem: dict[str, object]) -> str:
    """``file:line: key: message``, as the loader renders an error."""
    where = f"{problem['file']}:{problem['line']}" if problem.get("line") else problem["file"]
    key = f"{problem['path']}: " if problem.get("path") else ""
    return f"{where}: {key}{problem['message']}"


def _may_somewhere(request: Request, action: Action) -> None:
    """Refused before the body is read: a caller who may do ``action`` nowhere."""
    who = identity.principal(request)
    if not who.may_somewhere(action):
        raise identity.refusal(request, who, action, None)


def _load(side: ControllerSide, folder: Path, upload: Upload) -> LoadResult:
    """The stacks of the copy at ``folder``, as ``stackctl apply`` loads its path; ``Invalid``
    when a manifest is."""
    path = folder.joinpath(*upload.entry.parts) if upload.entry else folder
    result = load_path(path, root=folder, reach=side.reach)
    if result.errors:
        count = len(result.errors)
        raise Invalid(
            f"{count} error{'s' if count > 1 else ''} in the manifests: nothing was recorded",
            [e.to_dict() for e in result.errors],
        )
    if not result.stacks:
        raise Invalid("no stack in the files sent", [])
    return result


def _apply(request: Request, upload: Upload) -> dict[str, Any]:
    side: ControllerSide = request.app.state.controller_side
    db = database(request)
    with private_copy(upload, side.uploads) as folder:
        result = _load(side, folder, upload)
        stacks = list(result.stacks.values())
        _check(request, db, side, stacks)
        changed = [d for d in stacks if db.stack_versions.latest_digest(d.name) != d.digest]
        root = keep(folder, upload, side.uploads) if changed else folder
        answers = {d.name: _record(request, db, d, root) for d in changed}
    return {
        "stacks": [answers.get(d.name) or _unchanged(db, d) for d in stacks],
        "warnings": [w.to_dict() for w in result.warnings],
    }


def _check(
    request: Request, db: Database, side: ControllerSide, stacks: list[DesiredStack]
) -> None:
    """Every stack is the caller's to apply, not one of the controller's sources', on a
    declared engine; else the refusal, before anything is recorded."""
    claimed = side.claimed()
    undeclared = []
    for desired in stacks:
        name = desired.name
        _authorize(request, db, Action.APPLY, desired)
        if name in claimed:
            raise ConflictError(
                f"stack {name!r} is declared by {claimed[name]} of the controller: change it"
                " there (its next pass would undo an apply)"
            )
        if side.engines is not None and desired.engine not in side.engines:
            declared = ", ".join(sorted(side.engines))
            undeclared.append(
                {
                    "file": desired.source,
                    "line": None,
                    "path": "spec.target.engine",
                    "message": f"engine {desired.engine!r} is not declared (declared: {declared})",
                }
            )
    if undeclared:
        raise Invalid("a stack targets an engine the controller does not declare", undeclared)


def _authorize(request: Request, db: Database, action: Action, desired: DesiredStack) -> None:
    """The caller's grant for ``action`` reaches the stack with the labels it has now (when it
    exists) and with those its manifest declares; else the refusal (a write's audited)."""
    name = desired.name
    if db.stacks.get(name) is not None:
        who = identity.require(request, action, name)
    else:
        who = identity.principal(request)
    if not who.may(action, name, desired.labels):
        raise identity.refusal(request, who, action, name)


def _record(request: Request, db: Database, desired: DesiredStack, root: Path) -> dict[str, Any]:
    """The new version as the caller and its APPLY, in one transaction with the audit entry."""
    actor = identity.actor(request)
    metadata = StackMetadata(created_by=authored("stackctl apply", actor))
    recorded = audited(
        db,
        actor,
        "apply",
        lambda: record_and_enqueue(db, desired, root=root, metadata=metadata),
        stack_id=desired.name,
    )
    if recorded.version is None:  # recorded meanwhile by someone else
        return _unchanged(db, desired)
    return {
        "name": desired.name,
        "version": recorded.version.version,
        "current": db.stacks.current_version(desired.name),
        "digest": desired.digest,
        "pinned": recorded.pinned,
        "command": plain(recorded.command) if recorded.command else None,
    }


def _unchanged(db: Database, desired: DesiredStack) -> dict[str, Any]:
    return {
        "name": desired.name,
        "version": None,
        "current": db.stacks.current_version(desired.name),
        "digest": desired.digest,
        "pinned": False,
        "command": None,
    }


def _diff(request: Request, upload: Upload) -> dict[str, Any]:
    side: ControllerSide = request.app.state.controller_side
    if side.plan is None:
        raise HTTPException(503, "diff needs the controller's engine: this API has none behind it")
    db = database(request)
    with private_copy(upload, side.uploads) as folder:
        result = _load(side, folder, upload)
        stacks = list(result.stacks.values())
        for desired in stacks:
            _authorize(request, db, Action.READ, desired)
        answers = []
        for desired in stacks:
            lines, count = side.plan(desired, _applied(db, desired.name))
            answers.append({"name": desired.name, "lines": lines, "differences": count})
    return {"stacks": answers, "warnings": [w.to_dict() for w in result.warnings]}


def _applied(db: Database, name: str) -> DesiredStack | None:
    """The stack's applied version (its current one when none was applied yet), or None."""
    stack = db.stacks.get(name)
    label = (stack.applied_version or stack.current_version) if stack else None
    version = db.stack_versions.get(name, label) if label else None
    return load_desired(db, version) if version is not None else None
