"""``POST /api/v1/hooks/git``: push webhooks from GitHub, Gitea/Forgejo and GitLab.

No bearer token here (a forge cannot send ours): each delivery is verified against the matched
repository's webhook secret (``controller.git.webhooks``), in constant time, before anything it
says is used. The body is read up to 5 MiB and refused beyond (413) without reading the rest.
What a verified push does is the daemon's (``on_push``): it triggers a fetch and answers 202; the
route only moves bytes in and the answer out. ``?repository=NAME`` names the repository instead
of matching the payload's URLs. Without a controller behind it (``on_push`` unset) it answers
503.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from controller.git.webhooks import MAX_BODY

OnPush = Callable[..., tuple[int, dict[str, object]]]

router = APIRouter(prefix="/api/v1/hooks")


@router.post("/git")
async def git_push(request: Request, repository: str | None = None) -> JSONResponse:
    """Verify the delivery, then fetch the repository now (202), or say why not."""
    on_push: OnPush | None = request.app.state.on_push
    if on_push is None:
        return JSONResponse({"message": "no repositories are followed here"}, status_code=503)
    headers: Mapping[str, str] = dict(request.headers)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return JSONResponse({"message": f"the body is over {MAX_BODY} bytes"}, status_code=413)
    status, answer = on_push(headers=headers, body=bytes(body), repository=repository)
    detail = answer.pop("detail", "")
    return JSONResponse({"message": detail, **answer}, status_code=status)
