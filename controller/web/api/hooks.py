"""``POST /api/v1/hooks/git``: push webhooks from GitHub, Gitea/Forgejo and GitLab.

No bearer token here (a forge cannot send our token): each delivery is verified against the
followed repositories' webhook secrets (``controller.sources.git.webhooks``), over the raw bytes
and in
constant time, before anything it says is used. Whatever anyone sends costs little: an unsigned
request (or one no forge sends) is answered from its headers, its body unread; a body announced
over 5 MiB is refused unread (413); bodies in flight share a budget (503 beyond it),
must arrive within a deadline (408) and are checked and parsed in threads of their own, off the
event loop (``controller.web.api.limits``). What a verified push does is the daemon's (``on_push``):
it triggers a fetch and answers 202; the route only moves bytes in and the answer out.
``?repository=NAME`` names the repository instead of matching the payload's URLs. Without a
controller behind it (``on_push`` unset) it answers 503.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from controller.sources.git.webhooks import MAX_BODY, Refusal, check_content_length, read_delivery
from controller.web.api.limits import BodyRefused, HookGuard, HookLimits

OnPush = Callable[..., tuple[int, dict[str, object]]]

router = APIRouter(prefix="/api/v1/hooks")

RETRY_AFTER = "5"  # seconds a sender refused for the budget is asked to wait


def configure(app: FastAPI, limits: HookLimits | None) -> None:
    """Give ``app`` the guard its webhook route reads bodies through."""
    app.state.hook_guard = HookGuard(limits or HookLimits())


@router.post("/git")
async def git_push(request: Request, repository: str | None = None) -> JSONResponse:
    """Verify the delivery, then fetch the repository now (202), or say why not."""
    on_push: OnPush | None = request.app.state.on_push
    if on_push is None:
        return JSONResponse({"message": "no repositories are followed here"}, status_code=503)
    guard: HookGuard = request.app.state.hook_guard
    headers: Mapping[str, str] = dict(request.headers)
    refused = check_content_length(headers)
    if refused is not None:
        return _refuse(refused.http_status, refused.reason)
    delivery = read_delivery(headers)
    if isinstance(delivery, Refusal) or delivery.credential is None:
        # Not a forge's request, or unsigned: refused on its headers, its body never read.
        answered = partial(on_push, headers=headers, body=b"", repository=repository)
        return _reply(*await guard.run(answered), close=True)
    declared = headers.get("content-length")
    try:
        async with guard.read_body(
            request, declared=int(declared) if declared else None, limit=MAX_BODY
        ) as body:
            status, answer = await guard.run(
                partial(on_push, headers=headers, body=body, repository=repository)
            )
    except BodyRefused as e:
        return _refuse(e.status, e.message)
    return _reply(status, answer)


def _reply(status: int, answer: dict[str, object], *, close: bool = False) -> JSONResponse:
    """The handler's answer; ``close`` when the body was not read (see ``_refuse``)."""
    detail = answer.pop("detail", "")
    headers = {"Connection": "close"} if close else None
    return JSONResponse({"message": detail, **answer}, status_code=status, headers=headers)


def _refuse(status: int, message: str) -> JSONResponse:
    """An answer before the body was read through: the connection cannot carry another request
    (the rest of the body would come first), so it is closed."""
    headers = {"Connection": "close"}
    if status == 503:
        headers["Retry-After"] = RETRY_AFTER
    return JSONResponse({"message": message}, status_code=status, headers=headers)
