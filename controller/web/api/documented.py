"""What the OpenAPI document (``/openapi.json``, ``/docs``) says the API answers besides its
successes: the error body every error has, why each status is answered, and the bearer scheme
(from which ``/docs`` shows its Authorize button).

Routes list their statuses with ``responses=errors(...)``, next to the code that answers them.
The document must stay true: ``tests/api/test_api_answers_what_its_openapi_document_says.py``
generates requests from it with schemathesis and checks every answer against it.
"""

from __future__ import annotations

from typing import Any

from fastapi.security import HTTPBearer
from pydantic import BaseModel

TOKEN_ENV = "STACKCTL_API_TOKEN"

# auto_error=False: the routes answer 401/403 themselves, in the API's shape (deps.py).
BEARER = HTTPBearer(
    auto_error=False,
    description=f"The controller's {TOKEN_ENV}. Writes always need it; reads too when one is"
    " set, unless the controller runs with --api-open-reads.",
)


class Problem(BaseModel):
    """Every error: what went wrong, and (422) each invalid parameter."""

    message: str
    errors: list[str] | None = None


WHY = {
    400: "The Host is not a name this controller is served as (see --allowed-host).",
    401: "The bearer token is missing or wrong.",
    403: f"Writes are off: the controller has no {TOKEN_ENV}.",
    404: "No such stack, version, command or repository.",
    408: "The body did not arrive in time.",
    409: "The state forbids it (a finished command, a suspended stack's rollback...).",
    413: "The body is too large.",
    422: "A parameter or the body is invalid (each one in `errors`), or a cursor this server"
    " did not hand out.",
    503: "The database is busy or failing; retry.",
}


def errors(*codes: int, **why: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that may answer ``codes`` (``why`` as ``e404="..."``
    replaces a code's description)."""
    return {
        code: {"model": Problem, "description": why.get(f"e{code}", WHY[code])} for code in codes
    }


ACCEPTED = {
    202: {
        "description": "Accepted: the command queued (or the one already pending); follow it"
        " at `Location`.",
        "headers": {
            "Location": {"description": "Where to poll the command.", "schema": {"type": "string"}}
        },
    }
}

HOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Problem, "description": "A ping: the forge checks the hook (`pong`)."},
    202: {
        "model": Problem,
        "description": "Verified: the repository is fetched now, or the delivery is ignored"
        " (another ref, a redelivery, not a push), saying why.",
    },
    **errors(
        400,
        401,
        413,
        503,
        e400="Not a delivery of a known forge (headers, content type, payload).",
        e401="The signature or token does not verify with a followed repository's secret"
        " (or no followed repository matches: answered alike).",
        e413="The body is over 5 MiB.",
        e503="No repositories are followed here, or too many deliveries are being read at"
        " once; retry.",
    ),
}
